print("solve")
