"""Command line of the engine (the app starts it; people rarely do):

  python -m qatwb_torch train --job DIR      train as DIR/job.json says; JSON lines on stdout
  python -m qatwb_torch forward --model model.json --params DIR --input x.npy --out y.npy [--qat] [--device cuda]
  python -m qatwb_torch info                 PyTorch version, threads and CUDA devices as JSON

Bad input ends with one JSON line {"type": "error", "message": ...} and exit code 2."""
import argparse
import json
import os
import sys

from . import PROTOCOL


def _error(message, code=2):
    sys.stdout.write(json.dumps({"type": "error", "message": message}) + "\n")
    sys.stdout.flush()
    sys.exit(code)


def _revive(o):
    """{"$num": "NaN"} → nan: how the app sends numbers JSON cannot hold."""
    if len(o) == 1 and "$num" in o:
        return float(o["$num"])
    return o


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m qatwb_torch")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--job", required=True)
    f = sub.add_parser("forward")
    f.add_argument("--model", required=True)
    f.add_argument("--params", required=True)
    f.add_argument("--input", required=True)
    f.add_argument("--out", required=True)
    f.add_argument("--qat", action="store_true")
    f.add_argument("--device", default="cpu")
    sub.add_parser("info")
    args = parser.parse_args(argv)

    try:
        import numpy  # noqa: F401
        import torch
    except ImportError as e:
        _error(f"{sys.executable}: {e}; the PyTorch engine needs torch and numpy in this Python")

    from .ir import InputError, load_model

    if args.command == "info":
        cuda = []
        if torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                p = torch.cuda.get_device_properties(i)
                cuda.append({"index": i, "name": p.name, "memoryBytes": int(p.total_memory)})
        print(json.dumps({
            "type": "info", "protocol": PROTOCOL, "python": sys.version.split()[0], "executable": sys.executable,
            "torch": torch.__version__, "threads": torch.get_num_threads(), "cuda": cuda,
            "distributed": torch.distributed.is_available(),
        }))
        return 0
    try:
        if args.command == "forward":
            import numpy as np

            from .network import QatNet
            from .train import read_params

            spec = load_model(args.model)
            net = QatNet(spec)
            net.load_params(read_params(os.path.dirname(args.params) or ".", os.path.basename(args.params), spec))
            device = torch.device(args.device)
            net.to(device).eval()
            x = np.load(args.input).astype(np.float32)
            qat = ([l.output_shift for l in spec.layers], [l.weight_bits for l in spec.layers]) if args.qat else None
            with torch.no_grad():
                y = net(torch.from_numpy(x).to(device), qat)
            np.save(args.out, y.cpu().numpy().astype(np.float32))
            return 0
        job_dir = os.path.abspath(args.job)
        try:
            with open(os.path.join(job_dir, "job.json"), encoding="utf-8") as fh:
                job = json.load(fh, object_hook=_revive)
        except (OSError, ValueError) as e:
            raise InputError(f"{os.path.join(job_dir, 'job.json')}: cannot read the job ({e})")
        if job.get("protocol") != PROTOCOL:
            raise InputError(f"job.json: protocol {job.get('protocol')} but this engine speaks {PROTOCOL}; the app and resources/pytorch are from different versions")
        from .train import run

        run(job_dir, load_model(os.path.join(job_dir, job["model"])), job)
        return 0
    except (InputError, ValueError) as e:
        _error(str(e))


if __name__ == "__main__":
    sys.exit(main())
