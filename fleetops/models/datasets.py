"""Labelled data a user brings: samples for golden inputs and sets for evaluation and quantization.

Forms, each read into (samples, label names) shaped for the model's interface:

* a folder with one sub-folder per label (ImageFolder style) of images (PNG, JPEG, BMP, GIF;
  resized to the interface's height and width, converted to its channels), WAV files (mono,
  16-bit PCM at the interface's sample rate) or ``.txt`` files (one text sample per line);
* a CSV file with a ``label`` column and one column per input feature (tabular models) or a
  ``text`` column (text models);
* a ``.tsv``/``.txt`` file of ``label<TAB>text`` lines.

Every problem (an unreadable image, a WAV at the wrong rate, a label the model does not have, a
row with the wrong number of features) is one InputError naming the file.
"""

from __future__ import annotations

import csv
import wave
from pathlib import Path

import numpy as np

from fleetops.edge.inference import Interface
from fleetops.errors import InputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif"}
MAX_SAMPLES = 20000


def load(path: Path, interface: Interface, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(samples, label indices) from ``path``; labels must be the model's."""
    if not path.exists():
        raise InputError(f"data not found: {path}")
    if path.is_dir():
        samples, names = _folder(path, interface)
    elif path.suffix.lower() == ".csv":
        samples, names = _csv(path, interface)
    elif path.suffix.lower() in (".tsv", ".txt"):
        samples, names = _lines(path, interface)
    else:
        raise InputError(f"{path}: data must be a folder of labelled sub-folders, a .csv or a .tsv file")
    if not samples:
        raise InputError(f"{path}: no samples found")
    if len(samples) > MAX_SAMPLES:
        raise InputError(f"{path}: {len(samples)} samples; at most {MAX_SAMPLES}")
    unknown = sorted(set(names) - set(labels))
    if unknown:
        raise InputError(f"{path}: label {unknown[0]!r} is not one of the model's labels ({', '.join(labels)})")
    indices = np.array([labels.index(name) for name in names], dtype=np.int64)
    if interface.input.kind == "text":
        return np.array(samples), indices
    if interface.input.kind == "audio":
        shortest = min(len(sample) for sample in samples)
        return np.stack([sample[:shortest] for sample in samples]).astype(np.float32), indices
    return np.stack(samples).astype(np.float32), indices


def _folder(path: Path, interface: Interface) -> tuple[list, list[str]]:
    samples: list = []
    names: list[str] = []
    folders = sorted(child for child in path.iterdir() if child.is_dir() and not child.name.startswith("."))
    if not folders:
        raise InputError(f"{path}: expected one sub-folder per label (e.g. {path}/cat/1.png)")
    for folder in folders:
        for file in sorted(folder.iterdir()):
            if file.name.startswith(".") or not file.is_file():
                continue
            for sample in _file_samples(file, interface):
                samples.append(sample)
                names.append(folder.name)
    return samples, names


def _file_samples(file: Path, interface: Interface) -> list:
    kind, suffix = interface.input.kind, file.suffix.lower()
    if kind == "image" and suffix in IMAGE_SUFFIXES:
        return [image(file, interface)]
    if kind == "audio" and suffix == ".wav":
        return [audio(file, interface)]
    if kind == "text" and suffix == ".txt":
        return [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    raise InputError(f"{file}: not a sample for a {kind} model (expected {_expected(kind)})")


def _expected(kind: str) -> str:
    return {"image": "an image file", "audio": "a .wav file", "text": "a .txt file"}.get(kind, "a CSV file")


def image(file: Path, interface: Interface) -> np.ndarray:
    """An image file as the HWC samples the interface takes (resized, channels converted)."""
    from PIL import Image, UnidentifiedImageError

    height, width, channels = interface.input.shape
    try:
        with Image.open(file) as picture:
            mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
            converted = picture.convert(mode).resize((width, height), Image.Resampling.BILINEAR)
            pixels = np.asarray(converted, dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as error:
        raise InputError(f"{file}: not a readable image ({type(error).__name__})") from None
    return pixels.reshape(height, width, channels)


def audio(file: Path, interface: Interface) -> np.ndarray:
    """A WAV file as float samples in [-1, 1]; it must be mono 16-bit at the interface's rate."""
    rate = interface.input.sample_rate
    try:
        with wave.open(str(file), "rb") as clip:
            if clip.getnchannels() != 1 or clip.getsampwidth() != 2:
                raise InputError(
                    f"{file}: {clip.getnchannels()} channel(s), {8 * clip.getsampwidth()}-bit; "
                    "the model takes mono 16-bit PCM"
                )
            if clip.getframerate() != rate:
                raise InputError(f"{file}: {clip.getframerate()} Hz; the model takes {rate} Hz")
            frames = clip.readframes(clip.getnframes())
    except (wave.Error, EOFError) as error:
        raise InputError(f"{file}: not a readable WAV file ({error})") from None
    return np.frombuffer(frames, dtype=np.int16).astype(np.float32) / 32768.0


def _csv(path: Path, interface: Interface) -> tuple[list, list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "label" not in rows[0]:
        raise InputError(f"{path}: a CSV evaluation set needs a header with a 'label' column")
    names = [row["label"] for row in rows]
    if interface.input.kind == "text":
        if "text" not in rows[0]:
            raise InputError(f"{path}: a text model's CSV needs a 'text' column")
        return [row["text"] for row in rows], names
    columns = [key for key in rows[0] if key != "label"]
    samples = []
    for number, row in enumerate(rows, start=2):
        try:
            samples.append(np.array([float(row[key]) for key in columns], dtype=np.float32))
        except (TypeError, ValueError):
            raise InputError(f"{path}:{number}: every feature column must be a number") from None
    return samples, names


def _lines(path: Path, interface: Interface) -> tuple[list, list[str]]:
    if interface.input.kind != "text":
        raise InputError(f"{path}: label<TAB>text lines are for text models; this one takes {interface.input.kind}")
    samples, names = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        label, tab, text = line.partition("\t")
        if not tab or not text.strip():
            raise InputError(f"{path}:{number}: expected label<TAB>text")
        samples.append(text)
        names.append(label)
    return samples, names
