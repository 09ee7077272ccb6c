"""The demo and the C++ example: they run and reach their stated results."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dlcore as dl

ROOT = Path(__file__).resolve().parents[1]


def test_demo_cnn_trains_to_high_accuracy(capsys):
    from dlcore import demo

    acc = demo.main([])
    out = capsys.readouterr().out
    assert "a CNN on" in out and "final test accuracy" in out and "epoch   1" in out
    assert acc >= 0.98


def test_demo_mlp_trains_to_high_accuracy(capsys):
    from dlcore import demo

    acc = demo.main(["--model", "mlp"])
    assert "a MLP on" in capsys.readouterr().out
    assert acc >= 0.97


def test_train_mlp_example_checkpoints_and_reloads(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "examples/train_mlp.py"), "--epochs", "4", "--out",
                          str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    last_epoch = [ln for ln in lines if ln.startswith("epoch   4")][0]
    reloaded = [ln for ln in lines if "reloaded" in ln][0]
    # The reloaded checkpoint gives the accuracy the last epoch reported.
    assert last_epoch.split()[-1] == reloaded.split()[-1]
    assert float(reloaded.split()[-1]) > 0.9
    assert dl.load(tmp_path / "mlp_digits.safetensors")["epoch"] == 4


def test_train_lenet_example_reaches_98_percent_on_digits():
    run = subprocess.run([sys.executable, str(ROOT / "examples/train_lenet.py")], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    final = [ln for ln in run.stdout.splitlines() if "final test accuracy" in ln][0]
    assert float(final.split()[-1]) >= 0.98


def test_unet_denoise_example_improves_psnr_and_writes_a_png(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "examples/unet_denoise.py"), "--epochs", "2", "--train", "800",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    before = float(lines[0].split("PSNR")[1].split()[0])
    after = float([ln for ln in lines if "denoised test PSNR" in ln][-1].split("PSNR")[1].split()[0])
    assert after > before + 5.0
    assert (tmp_path / "unet_denoise.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_png_round_trips_through_a_plain_decoder(tmp_path):
    import struct
    import zlib

    import numpy as np

    from dlcore.utils.image import save_png

    img = (np.arange(12 * 7).reshape(12, 7) * 3 % 256).astype(np.uint8)
    save_png(tmp_path / "a.png", img)
    data = (tmp_path / "a.png").read_bytes()
    w, h = struct.unpack(">II", data[16:24])
    idat = data[data.index(b"IDAT") + 4:data.index(b"IEND") - 8]
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, w + 1)
    assert (w, h) == (7, 12) and np.all(raw[:, 0] == 0)
    np.testing.assert_array_equal(raw[:, 1:], img)


def test_digits_dataset_is_shipped_in_the_package():
    from dlcore.datasets import load_digits

    x, y = load_digits()
    assert x.shape == (1797, 64) and y.shape == (1797,)
    assert x.dtype == dl.float32 and y.dtype == dl.int64
    assert 0.0 <= x.min().item() and x.max().item() == 1.0
    assert sorted(set(y.tolist())) == list(range(10))


def compiler():
    cxx = shutil.which(os.environ.get("CXX", "c++")) or shutil.which("g++")
    assert cxx, "a C++ compiler is needed to build dlcore, so it must be present here"
    return cxx


def test_cpp_example_builds_against_the_installed_core_and_fits_a_line(tmp_path):
    inc, lib = dl.get_include(), dl.get_library_dir()
    assert os.path.exists(os.path.join(inc, "dlcore", "dlcore.h"))
    exe = tmp_path / "linear_regression"
    cmd = [compiler(), "-std=c++17", "-O1", str(ROOT / "examples/cpp/linear_regression.cpp"), "-I", inc,
           "-L", lib, "-ldlcore", "-fopenmp", f"-Wl,-rpath,{lib}", "-o", str(exe)]
    build = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "fitted w = 2.4" in run.stdout or "fitted w = 2.5" in run.stdout


def test_cmake_find_package(tmp_path):
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("cmake is not on PATH")
    if not os.path.exists(os.path.join(dl.cmake_prefix_path(), "lib", "cmake", "dlcore", "dlcoreConfig.cmake")):
        pytest.skip("this dlcore was not installed from a wheel (no CMake package)")
    (tmp_path / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.18)\nproject(app CXX)\nset(CMAKE_CXX_STANDARD 17)\n"
        "find_package(dlcore REQUIRED)\nadd_executable(app main.cpp)\n"
        "target_link_libraries(app PRIVATE dlcore::dlcore)\n")
    shutil.copy(ROOT / "examples/cpp/linear_regression.cpp", tmp_path / "main.cpp")
    build = tmp_path / "build"
    r = subprocess.run([cmake, "-S", str(tmp_path), "-B", str(build), f"-DCMAKE_PREFIX_PATH={dl.cmake_prefix_path()}"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([cmake, "--build", str(build)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    run = subprocess.run([str(build / "app")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "fitted w" in run.stdout


def run_example(name, *args, timeout=600):
    run = subprocess.run([sys.executable, str(ROOT / "examples" / name), *args], capture_output=True, text=True,
                         timeout=timeout)
    assert run.returncode == 0, run.stderr
    return run.stdout.splitlines()


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_sequence_mnist_example_classifies_digit_rows(cell):
    lines = run_example("sequence_mnist.py", "--cell", cell)
    final = [ln for ln in lines if "final test accuracy" in ln][0]
    assert float(final.split()[3]) >= 0.95


def test_char_lstm_example_learns_and_samples():
    lines = run_example("char_lstm.py", "--steps", "60", "--sample-len", "80", "--prompt", "KING.")
    final = [ln for ln in lines if ln.startswith("final val loss")][0]
    assert float(final.split()[3]) < 3.2  # ln 76 = 4.33 for a uniform guess
    sample = "\n".join(lines[lines.index("--- sample ---") + 1:])
    assert sample.startswith("KING.") and len(sample) == len("KING.") + 80


def test_bigru_capitalize_example_beats_the_first_letter_rule():
    lines = run_example("bigru_capitalize.py", "--epochs", "2", "--lines", "3000")
    epoch = [ln for ln in lines if ln.startswith("epoch 2")][0]
    score, rule = float(epoch.split("F1 ")[1].split()[0]), float(epoch.split("rule ")[1].rstrip(")"))
    assert score > rule + 0.15


def test_tiny_gpt_example_learns_checkpoints_resumes_and_samples(tmp_path):
    ckpt = str(tmp_path / "gpt.dlc")
    lines = run_example("tiny_gpt.py", "--steps", "80", "--sample-len", "40", "--prompt", "KING.",
                        "--checkpoint", ckpt, "--d-model", "64", "--layers", "2")
    final = float([ln for ln in lines if ln.startswith("final val loss")][0].split()[3])
    assert final < 3.0  # ln 76 = 4.33 for a uniform guess
    reloaded = [ln for ln in lines if "reloaded model val loss" in ln][0]
    assert float(reloaded.split()[-1]) == final  # the checkpoint holds exactly the trained model
    sample = "\n".join(lines[lines.index("--- sample ---") + 1:])
    assert sample.startswith("KING.") and len(sample) == len("KING.") + 40
    lines = run_example("tiny_gpt.py", "--steps", "20", "--sample-len", "5", "--checkpoint", ckpt, "--resume",
                        "--d-model", "64", "--layers", "2")
    assert "resumed from" in lines[0] and "at step 80" in lines[0]
    assert any(ln.startswith("step   100") for ln in lines)
    assert float([ln for ln in lines if ln.startswith("final val loss")][0].split()[3]) < final + 0.05


def test_vit_digits_example_learns_and_reports_attention(tmp_path):
    lines = run_example("vit_digits.py", "--epochs", "15", "--out", str(tmp_path / "attn.png"))
    assert float([ln for ln in lines if ln.startswith("final test accuracy")][0].split()[3]) > 0.8
    at = [i for i, ln in enumerate(lines) if ln.startswith("class-token attention")][0]
    weights = np.array([[float(v) for v in ln.split()] for ln in lines[at + 1:at + 5]])
    # Softmax weights over the 16 patches and the class token itself (not printed).
    assert weights.shape == (4, 4) and (weights > 0).all() and weights.sum() < 1.0
