#!/usr/bin/env python3
"""PyTorch anchors: FP32 GEMM through torch.matmul (cuBLAS) and conv2d through
torch.nn.functional.conv2d (cuDNN, benchmark mode), for bench/gpu-check and the GPU agent's
library yardstick (torch-anchors.ts), timed with CUDA events as FlexTensor timed its baselines:
warm-up, then `runs` back-to-back calls per repeat; the median repeat is reported. TF32 is off,
so both sides compute in full FP32. Prints one JSON object on stdout; without PyTorch or without
CUDA it says so ({"available": false, "reason": ...}) and exits 0. The device is the first
visible one (the caller sets CUDA_VISIBLE_DEVICES)."""
import argparse
import json
import sys


def timed(torch, fn, runs, repeats):
    for _ in range(10):
        fn()
    torch.cuda.synchronize()
    seconds = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(runs):
            fn()
        end.record()
        end.synchronize()
        seconds.append(start.elapsed_time(end) / 1000.0 / runs)
    return seconds


def anchor(torch, workload, runs, repeats):
    op, s = workload["op"], workload["shape"]
    device = torch.device("cuda", 0)
    if op == "gemm":
        a = torch.randn(s["M"], s["K"], device=device)
        b = torch.randn(s["K"], s["N"], device=device)
        return "torch.matmul (cuBLAS, FP32)", timed(torch, lambda: torch.matmul(a, b), runs, repeats)
    if op == "conv2d":
        groups = s.get("groups", 1)
        x = torch.randn(s["N"], s["C"], s["H"], s["W"], device=device)
        w = torch.randn(s["K"], s["C"] // groups, s["R"], s["S"], device=device)
        conv = torch.nn.functional.conv2d
        fn = lambda: conv(x, w, stride=s.get("stride", 1), padding=s.get("pad", 0), dilation=s.get("dilation", 1), groups=groups)
        return "torch conv2d (cuDNN, FP32)", timed(torch, fn, runs, repeats)
    return None, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workloads", required=True, help='JSON list of {"name", "op", "shape"}')
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    workloads = json.loads(args.workloads)
    try:
        import torch
    except Exception as err:  # ImportError, or a broken install
        print(json.dumps({"available": False, "reason": f"PyTorch cannot be imported ({err})"}))
        return 0
    if not torch.cuda.is_available():
        print(json.dumps({"available": False, "reason": "PyTorch is installed but torch.cuda.is_available() is False"}))
        return 0
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    results = []
    with torch.no_grad():
        for w in workloads:
            library, seconds = anchor(torch, w, args.runs, args.repeats)
            if library is None:
                results.append({"name": w["name"], "skipped": f"no PyTorch anchor for {w['op']}"})
                continue
            results.append({"name": w["name"], "library": library, "seconds": sorted(seconds)[len(seconds) // 2], "repeats": seconds})
    print(json.dumps({
        "available": True, "torch": torch.__version__, "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(), "device": torch.cuda.get_device_name(0), "results": results,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
