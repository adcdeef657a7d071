"""Labelled data in every form the import, evaluate and quantize verbs take."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from fleetops.edge.inference import Interface
from fleetops.errors import InputError
from fleetops.models import datasets

AUDIO = Interface.model_validate({"input": {"kind": "audio", "sample_rate": 16000, "frame": 512}})
TEXT = Interface.model_validate({"input": {"kind": "text"}})
IMAGE = Interface.model_validate({"input": {"kind": "image", "shape": [4, 6, 3], "layout": "NHWC", "dtype": "uint8"}})
TABLE = Interface()


def wav(path, rate=16000, channels=1, width=2, seconds=0.1):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as clip:
        clip.setnchannels(channels)
        clip.setsampwidth(width)
        clip.setframerate(rate)
        clip.writeframes(np.zeros(int(rate * seconds) * channels, dtype=f"<i{width}").tobytes())


def test_wav_folders(tmp_path):
    wav(tmp_path / "speech" / "a.wav", seconds=0.2)
    wav(tmp_path / "silence" / "b.wav", seconds=0.1)
    samples, labels = datasets.load(tmp_path, AUDIO, ["silence", "speech"])
    assert samples.shape == (2, 1600) and labels.tolist() == [0, 1]  # cut to the shortest clip
    wav(tmp_path / "speech" / "c.wav", rate=8000)
    with pytest.raises(InputError, match="c.wav: 8000 Hz; the model takes 16000 Hz"):
        datasets.load(tmp_path, AUDIO, ["silence", "speech"])
    (tmp_path / "speech" / "c.wav").unlink()
    wav(tmp_path / "speech" / "d.wav", channels=2)
    with pytest.raises(InputError, match="d.wav: 2 channel"):
        datasets.load(tmp_path, AUDIO, ["silence", "speech"])


def test_image_folders_are_resized_and_converted(tmp_path):
    from PIL import Image

    (tmp_path / "cat").mkdir()
    Image.new("L", (40, 30), 200).save(tmp_path / "cat" / "1.png")  # grey, larger
    (tmp_path / "dog").mkdir()
    (tmp_path / "dog" / "2.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="2.png: not a readable image"):
        datasets.load(tmp_path, IMAGE, ["cat", "dog"])
    (tmp_path / "dog" / "2.png").unlink()
    samples, labels = datasets.load(tmp_path, IMAGE, ["cat", "dog"])
    assert samples.shape == (1, 4, 6, 3) and float(samples.max()) == 200.0 and labels.tolist() == [0]


def test_text_as_tsv_csv_and_folders(tmp_path):
    (tmp_path / "lines.tsv").write_text("disk\tno space left on device\nnet\tconnection refused\n")
    samples, labels = datasets.load(tmp_path / "lines.tsv", TEXT, ["disk", "net"])
    assert samples.tolist() == ["no space left on device", "connection refused"] and labels.tolist() == [0, 1]
    (tmp_path / "bad.tsv").write_text("disk no tab here\n")
    with pytest.raises(InputError, match=r"bad.tsv:1: expected label<TAB>text"):
        datasets.load(tmp_path / "bad.tsv", TEXT, ["disk"])
    (tmp_path / "set.csv").write_text("text,label\nswap is full,disk\n")
    assert datasets.load(tmp_path / "set.csv", TEXT, ["disk"])[0].tolist() == ["swap is full"]
    (tmp_path / "folder" / "net").mkdir(parents=True)
    (tmp_path / "folder" / "net" / "lines.txt").write_text("dns timeout\n\nroute flapping\n")
    assert datasets.load(tmp_path / "folder", TEXT, ["net"])[0].tolist() == ["dns timeout", "route flapping"]


def test_tabular_csv_problems_name_the_line(tmp_path):
    (tmp_path / "t.csv").write_text("a,b,label\n1,2,x\n3,oops,y\n")
    with pytest.raises(InputError, match=r"t.csv:3: every feature column must be a number"):
        datasets.load(tmp_path / "t.csv", TABLE, ["x", "y"])
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="needs a header with a 'label' column"):
        datasets.load(tmp_path / "t.csv", TABLE, ["x"])
    (tmp_path / "t.csv").write_text("a,label\n1,z\n")
    with pytest.raises(InputError, match="label 'z' is not one of the model's labels"):
        datasets.load(tmp_path / "t.csv", TABLE, ["x"])
    with pytest.raises(InputError, match="data not found"):
        datasets.load(tmp_path / "none.csv", TABLE, ["x"])
