"""The training loop, step for step the embedded engine's (src-main/training/trainer.ts): float epochs,
then from qatStartEpoch BatchNorm folded, a fresh Adam and fake quantization with output shifts
recomputed from the weights before every batch; the learning-rate schedule, the progressive bit
schedule, early stopping (which in the float phase starts QAT instead of stopping), class weights,
and resume from a saved state. Initial weights and batch order come from the app's seeded generator.

Several processes (torchrun, DDP): every rank sees the same shuffled order and trains on its slice of
each global batch; the loss is scaled so the averaged gradient is the global batch's gradient.
Rank 0 evaluates, reports and writes the result; the early-stopping decision is broadcast."""
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from .ir import InputError, tfjs_to_torch, torch_to_tfjs
from .network import BN_SETTLED, QatNet
from .quant import output_shifts, output_shifts_np
from .rng import shuffled
from .stats import activation_stats, layer_range_stats

PROGRESS_INTERVAL_S = 0.2
# Several processes agree on a cancel every this many batches.
STOP_CHECK_BATCHES = 8
STATS_SAMPLES = 64
# What the app's TrainConfig may hold. The schedule-like parts (phases, schedules, early stopping,
# and each stage's per-layer bits from model.json's bit policy) reach the engine as the app's stage
# plan (stages.ts planStages), not re-derived here.
KNOWN_CONFIG = {
    "epochs", "qatStartEpoch", "batchSize", "learningRate", "lrSchedule", "earlyStopping", "qat",
    "shiftQuantile", "batchNorm", "layerBatchNorm", "classWeights", "earlyStopPatience", "seed",
}


def plain(v):
    """JSON has no NaN or ±Infinity: they travel as {"$num": "NaN"} (the app's reader restores them)."""
    if isinstance(v, float) and not math.isfinite(v):
        return {"$num": "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")}
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def emit(kind, **fields):
    sys.stdout.write(json.dumps(plain({"type": kind, **fields}), allow_nan=False) + "\n")
    sys.stdout.flush()


def bits_for(spec, stage):
    """Per-layer bits of a stage (the app's plan, from model.json); the layers' final widths without one."""
    return list(stage["layerBits"]) if stage else [l.weight_bits for l in spec.layers]


def default_milestones(length):
    return sorted({m for m in (math.ceil(length * 0.5), math.ceil(length * 0.75)) if 0 < m < length})


def stage_learning_rate(stage, k, scale=1.0):
    """Learning rate in epoch k of a stage (stages.ts stageLearningRate)."""
    s = stage["lrSchedule"]
    lr = stage["learningRate"]
    kind = s["kind"]
    if kind == "none":
        return lr
    if kind == "plateau":
        return max(s.get("minLr", 0), lr * scale)
    if kind == "cosine":
        mn = s.get("minLr", 0)
        return mn + (lr - mn) * (1 + math.cos(math.pi * k / max(stage["length"], 1))) / 2
    gamma = s.get("gamma", 0.1)
    if s.get("stepSize") and s.get("milestones") is None:
        drops = k // s["stepSize"]
    else:
        milestones = s["milestones"] if s.get("milestones") is not None else ([] if s.get("stepSize") else default_milestones(stage["length"]))
        drops = len([m for m in milestones if m <= k])
    return lr * gamma ** drops


def check_config(config, spec, classes):
    unknown = sorted(set(config) - KNOWN_CONFIG)
    if unknown:
        raise InputError(f"training config: {', '.join(unknown)}: not supported by the PyTorch engine of this version")
    for f in ("epochs", "qatStartEpoch", "batchSize", "learningRate"):
        if f not in config:
            raise InputError(f"training config: {f} is missing")
    cw = config.get("classWeights")
    if cw is not None and len(cw) != classes:
        raise InputError(f"training config: classWeights must be {classes} non-negative numbers (got {len(cw)})")


class Dist:
    """torchrun's environment, or a single process."""

    def __init__(self, device_kind):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.on = self.world > 1
        if self.on:
            backend = "nccl" if device_kind == "cuda" else "gloo"
            torch.distributed.init_process_group(backend)

    def all_sum(self, values, device):
        if not self.on:
            return values
        t = torch.tensor(values, dtype=torch.float64, device=device)
        torch.distributed.all_reduce(t)
        return t.tolist()

    def broadcast(self, values, device):
        if not self.on:
            return values
        t = torch.tensor(values, dtype=torch.float64, device=device)
        torch.distributed.broadcast(t, 0)
        return t.tolist()


def _load(job_dir, rel):
    return np.load(os.path.join(job_dir, rel), allow_pickle=False)


def run(job_dir, spec, job):
    config = job["config"]
    classes = int(job["classes"])
    check_config(config, spec, classes)
    stages = job["stages"]
    plan_key = job["planKey"]
    want = job.get("device", "cpu")
    kind = "cuda" if want.startswith("cuda") else "cpu"
    if kind == "cuda":
        # The app checks this before starting (checkComputeDevice); this holds for a job run by hand.
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = int(want.split(":")[1]) if ":" in want else 0
        if index >= count:
            raise InputError(f"--device {want}: this Python's PyTorch ({torch.__version__}) sees {count} CUDA device(s)")
    if job.get("threads"):
        torch.set_num_threads(int(job["threads"]))
    dist = Dist(kind)
    if kind == "cuda":
        index = dist.local_rank if dist.on else (int(want.split(":")[1]) if ":" in want else 0)
        torch.cuda.set_device(index)
        device = torch.device("cuda", index)
    else:
        device = torch.device("cpu")

    stop = {"now": False}

    def on_term(_sig, _frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    x_np = _load(job_dir, job["data"]["x"]).astype(np.float32, copy=False)
    y_np = _load(job_dir, job["data"]["y"]).astype(np.int64)
    train_idx = _load(job_dir, job["data"]["train"]).astype(np.int64)
    val_idx = _load(job_dir, job["data"]["validation"]).astype(np.int64)
    if tuple(x_np.shape[1:]) != tuple(spec.input_shape):
        raise InputError(f"{job['data']['x']}: samples are {'x'.join(map(str, x_np.shape[1:]))}, the model expects {'x'.join(map(str, spec.input_shape))}")
    if len(train_idx) == 0:
        raise InputError(f"{job['data']['train']}: the training split is empty")
    # The whole data set on the device when it is small enough; otherwise batches are copied over.
    on_device = kind == "cpu" or x_np.nbytes < 2 ** 31
    x_all = torch.from_numpy(x_np).to(device) if on_device else torch.from_numpy(x_np)
    y_all = torch.from_numpy(y_np).to(device)
    cw = config.get("classWeights")
    class_w = torch.tensor(cw if cw is not None else [1.0] * classes, dtype=torch.float32, device=device)
    # Unweighted cross-entropy is the same loss without the weight gather (cheaper per step).
    loss_w = class_w if cw is not None else None
    class_w_np = np.array(cw if cw is not None else [1.0] * classes, dtype=np.float64)

    resume = job.get("resume")
    by_name = {l.name: l for l in spec.layers}
    # trainer.ts: the config's per-layer choice, else the IR layer's batchNorm or the config's default.
    bn_wanted = lambda name: (config.get("layerBatchNorm") or {}).get(name, by_name[name].batch_norm or config.get("batchNorm", False))
    bn_folded = bool(resume["bnFolded"]) if resume else False
    bn_layers = [] if bn_folded else [l.name for l in spec.layers if l.has_weights and l.op != "linear" and bn_wanted(l.name)]
    seed = config.get("seed", 1)
    model = QatNet(spec, bn_layers)
    if resume:
        load_vars(model, os.path.join(job_dir, resume["dir"], "vars"), "resume state")
    else:
        model.init_like_app(seed, read_init(job_dir, job.get("init"), spec))
    model.to(device)
    adam = make_adam(model, resume, job_dir, device)
    history = list(resume["history"]) if resume else []
    float_model = read_params(job_dir, resume["floatModelParams"], spec) if resume and resume.get("floatModelParams") else None
    qat_start = job["qatStart"]
    shuffle_seed = resume["seed"] if resume else seed * 7919 + 17
    sq = config.get("shiftQuantile", 1)
    trained, train_seconds = 0, 0.0
    cancelled, stopped_at = False, None
    epoch = resume["epoch"] if resume else 0
    # Where the run stands: the saved stage if it fits this plan, else the stage holding `epoch`.
    fits = bool(resume) and resume.get("stage") is not None and resume.get("stageStart") is not None and resume.get("planKey") == plan_key
    if fits:
        stage, stage_start = resume["stage"], resume["stageStart"]
    else:
        stage, stage_start = 0, 0
        while stage < len(stages) and epoch >= stage_start + stages[stage]["length"]:
            stage_start += stages[stage]["length"]
            stage += 1
    best = read_best(job_dir, resume, spec) if fits else None
    lr_scale = (resume.get("lrScale") or 1.0) if fits else 1.0
    plateau_stale = (resume.get("plateauStale") or 0) if fits else 0
    stale = resume["epochsWithoutImprovement"] if fits else 0
    stopped = {"float": False, "qat": False, **((resume or {}).get("stopped") or {})}
    best_epochs = dict((resume or {}).get("bestEpochs") or {})
    segments = read_segments(job_dir, resume, spec) if resume else []
    bits = bits_for(spec, stages[min(stage, len(stages) - 1)] if stages else None)
    net = wrap(model, dist, device)

    def state_now():
        """Where the run stands (TrainState without the tensors, which write_snapshot adds)."""
        return {
            "epoch": epoch, "bnFolded": bn_folded, "history": history,
            "bestValLoss": best["value"] if best else math.inf, "epochsWithoutImprovement": stale, "seed": shuffle_seed,
            "stage": stage, "stageStart": stage_start, "planKey": plan_key, "qatStart": qat_start, "lrScale": lr_scale,
            "plateauStale": plateau_stale, "stopped": dict(stopped), "bestEpochs": dict(best_epochs),
        }

    def end_stage(end, early):
        nonlocal stage, stage_start, best, stale, lr_scale, plateau_stale
        st = stages[stage]
        es = st.get("earlyStopping")
        restore = bool(es) and es.get("restoreBest", True) and best is not None and best.get("variables") is not None
        if restore and best["epoch"] != end - 1:
            assign_vars(model, best["variables"])
        kept = best["epoch"] if restore else end - 1
        if early:
            stopped[st["phase"]] = True
        best_epochs[st["phase"]] = kept
        if st["phase"] == "qat":
            segments.append({
                "bits": st["bits"], "layerBits": bits_for(spec, st), "fromEpoch": stage_start, "toEpoch": end - 1,
                "bestEpoch": kept, "stoppedEarly": early, "params": model.folded_params(),
            })
        stage += 1
        stage_start = end
        best, stale, lr_scale, plateau_stale = None, 0, 1.0, 0

    while True:
        while stage < len(stages) and epoch >= stage_start + stages[stage]["length"]:
            end_stage(epoch, False)
        if stage >= len(stages):
            break
        st = stages[stage]
        is_qat = st["phase"] == "qat"
        if is_qat and not bn_folded:
            # ai8x at start_epoch: fuse BN, a new optimizer, then QAT.
            folded = model.folded_params()
            float_model = folded
            plain_net = QatNet(spec, [])
            plain_net.load_params(folded)
            model = plain_net.to(device)
            adam = torch.optim.Adam(model.trainable(), lr=st["learningRate"], betas=(0.9, 0.999), eps=1e-8)
            net = wrap(model, dist, device)
            bn_folded = True
            qat_start = epoch
        bits = bits_for(spec, st)
        lr = stage_learning_rate(st, epoch - stage_start, lr_scale)
        for g in adam.param_groups:
            g["lr"] = lr
        batch_size = st["batchSize"]
        batches = -(-len(train_idx) // batch_size)
        remaining_epochs = sum(s["length"] for s in stages[stage:]) - (epoch - stage_start) - 1
        order_np = shuffled(train_idx, shuffle_seed + epoch * 1013)
        order = torch.from_numpy(order_np).to(device)
        net.train()
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        correct = torch.zeros((), dtype=torch.float64, device=device)
        seen = 0
        last_report = 0.0
        started = time.perf_counter()
        cpu_started = time.process_time()
        for b in range(batches):
            if dist.on and b % STOP_CHECK_BATCHES == 0:
                # All ranks stop at the same batch; asking every batch would be a collective and a host sync each.
                stop["now"] = dist.all_sum([1.0 if stop["now"] else 0.0], device)[0] > 0
            if stop["now"]:
                cancelled, stopped_at = True, {"epoch": epoch, "batch": b}
                break
            idx = order[b * batch_size:(b + 1) * batch_size]
            # Σ class weights of the whole global batch: each rank's loss is its share of the global mean.
            wsum = float(class_w_np[y_np[order_np[b * batch_size:(b + 1) * batch_size]]].sum()) if dist.on else None
            mine = idx.tensor_split(dist.world)[dist.rank] if dist.on else idx
            dummy = mine.shape[0] == 0
            if dummy:
                mine = idx[:1]  # every rank must take part in the step; this one contributes nothing
            xb = x_all.index_select(0, mine) if on_device else x_all.index_select(0, mine.cpu()).to(device, non_blocking=True)
            yb = y_all.index_select(0, mine)
            qat = (output_shifts(model.shift_pairs(), sq), bits) if is_qat else None
            logits = net(xb, qat)
            if dist.on:
                per = F.cross_entropy(logits, yb, weight=class_w, reduction="none")
                loss = per.sum() * (0.0 if dummy else dist.world / max(wsum, 1e-30))
            else:
                loss = F.cross_entropy(logits, yb, weight=loss_w)
            adam.zero_grad(set_to_none=True)
            loss.backward()
            adam.step()
            if not dummy:
                with torch.no_grad():
                    batch_loss = (F.cross_entropy(logits.detach(), yb, weight=class_w, reduction="none").sum() / class_w.index_select(0, yb).sum()) if dist.on else loss.detach()
                    loss_sum += batch_loss.double() * mine.shape[0]
                    correct += (logits.detach().argmax(1) == yb).sum().double()
                seen += mine.shape[0]
            now = time.perf_counter()
            if dist.rank == 0 and (now - last_report >= PROGRESS_INTERVAL_S or b == batches - 1):
                last_report = now
                rate = seen * dist.world / max(now - started, 1e-9)
                remaining = (batches - b - 1) * batch_size + remaining_epochs * len(train_idx)
                emit("progress", phase=st["phase"], epoch=epoch, epochs=epoch + remaining_epochs + 1, batch=b + 1, batches=batches,
                     loss=float(loss_sum) / max(seen, 1), accuracy=float(correct) / max(seen, 1),
                     samplesPerSecond=rate, samplesPerCpuSecond=seen * dist.world / max(time.process_time() - cpu_started, 1e-9),
                     etaSeconds=remaining / max(rate, 1e-9))
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        train_seconds += time.perf_counter() - started
        totals = dist.all_sum([float(loss_sum), float(correct), float(seen)], device)
        trained += int(totals[2])
        if cancelled:
            break
        qat = (output_shifts(model.shift_pairs(), sq), bits) if is_qat else None
        val = evaluate(model, x_all, y_all, val_idx, config["batchSize"], qat, class_w, device, on_device) if dist.rank == 0 else None
        val_loss, val_acc = dist.broadcast([val["loss"], val["accuracy"]] if val else [0.0, 0.0], device)
        if dist.rank == 0:
            params = model.folded_params()
            record = {
                "epoch": epoch, "phase": st["phase"],
                "trainLoss": totals[0] / max(totals[2], 1), "trainAccuracy": totals[1] / max(totals[2], 1),
                "valLoss": val["loss"], "valAccuracy": val["accuracy"], "lr": lr, "bits": st["bits"],
                "ranges": [layer_range_stats(l, *params[l.name], bits[i], sq, val["activations"][i]) for i, l in enumerate(spec.layers) if l.has_weights],
            }
            history.append(record)
            emit("epoch", record=record)
        epoch += 1
        es = st.get("earlyStopping")
        plateau = st["lrSchedule"] if st["lrSchedule"]["kind"] == "plateau" else None
        monitor = (es or {}).get("monitor", "valLoss")
        value = val_loss if monitor == "valLoss" else val_acc
        stop_now = False
        if (es or plateau) and math.isfinite(value):
            if best is None or (value < best["value"] if monitor == "valLoss" else value > best["value"]):
                keep = bool(es) and es.get("restoreBest", True)
                best = {"value": value, "epoch": epoch - 1, **({"variables": snapshot_vars(model)} if keep else {})}
                stale, plateau_stale = 0, 0
            else:
                stale += 1
                if plateau:
                    plateau_stale += 1
                    if plateau_stale >= plateau.get("patience", 3):
                        lr_scale *= plateau.get("factor", 0.5)
                        plateau_stale = 0
                stop_now = bool(es) and stale >= es["patience"]
        if stop_now:
            end_stage(epoch, True)
        if dist.rank == 0 and job.get("checkpoints"):
            # The whole state after this epoch (the embedded engine's onCheckpoint): the app keeps it in
            # the run folder, so a run whose process dies goes on from here.
            folder = os.path.join(job_dir, "checkpoints", str(epoch))
            write_snapshot(folder, model, adam, spec, config, state_now(), best, segments, float_model, bits,
                           trained / max(train_seconds, 1e-9), device, dist)
            emit("checkpoint", epoch=epoch, dir=os.path.relpath(folder, job_dir))
    if dist.rank == 0:
        out = os.path.join(job_dir, job.get("out", "out"))
        write_snapshot(out, model, adam, spec, config, state_now(), best, segments, float_model, bits,
                       trained / max(train_seconds, 1e-9), device, dist, cancelled, stopped_at)
        emit("result", file=os.path.relpath(os.path.join(out, "result.json"), job_dir))
    if dist.on:
        # Every collective is done and the result written. Leave without tearing DDP down: in torch 1.13
        # freeing the reducer joins a gloo thread that waits for the GIL this thread holds (a rank then
        # hangs for good after its work is done; seen here with 2 CPU processes).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def wrap(model, dist, device):
    if not dist.on:
        return model
    if device.type == "cuda" and model.has_bn():
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def evaluate(model, x_all, y_all, indices, batch_size, qat, class_w, device, on_device):
    activations = [None] * len(model.spec.layers)
    if len(indices) == 0:
        return {"loss": math.nan, "accuracy": math.nan, "activations": activations}
    model.eval()
    batch = max(batch_size, 64)
    idx_all = torch.from_numpy(indices).to(device)
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    weight_sum = torch.zeros((), dtype=torch.float64, device=device)
    hits = torch.zeros((), dtype=torch.float64, device=device)
    with torch.no_grad():
        for start in range(0, len(indices), batch):
            idx = idx_all[start:start + batch]
            xb = x_all.index_select(0, idx) if on_device else x_all.index_select(0, idx.cpu()).to(device)
            yb = y_all.index_select(0, idx)
            taps = [] if start == 0 else None
            logits = model(xb, qat, taps)
            loss_sum += F.cross_entropy(logits, yb, weight=class_w, reduction="sum").double()
            weight_sum += class_w.index_select(0, yb).sum().double()
            hits += (logits.argmax(1) == yb).sum().double()
            if taps is not None:
                for i, t in enumerate(taps):
                    activations[i] = activation_stats(t[:STATS_SAMPLES].float().cpu().numpy(), model.spec.layers[i].wide)
    model.train()
    return {"loss": float(loss_sum / weight_sum), "accuracy": float(hits) / len(indices), "activations": activations}


# ---- state in and out: .npy files in the embedded engine's layouts (TrainState), so a run can resume
# in either engine ----

def var_names(model):
    """(name, tensor, layer or None) of every variable, named like network.ts namedVars; the layer is
    given for weights, whose layout differs between the engines."""
    out = []
    for i, layer in enumerate(model.spec.layers):
        if not layer.has_weights:
            continue
        out.append((f"{layer.name}.weight", model.weights[i], layer))
        if layer.has_bias:
            out.append((f"{layer.name}.bias", model.biases[i], None))
        if str(i) in model.bns:
            bn = model.bns[str(i)]
            out += [(f"{layer.name}.bn.weight", bn.weight, None), (f"{layer.name}.bn.bias", bn.bias, None),
                    (f"{layer.name}.bn.running_mean", bn.running_mean, None), (f"{layer.name}.bn.running_var", bn.running_var, None),
                    (f"{layer.name}.bn.num_batches_tracked", bn.num_batches_tracked, None)]
    return out


def trainable_names(model):
    trainable = {id(p) for p in model.trainable()}
    return [v for v in var_names(model) if id(v[1]) in trainable]


def to_app_layout(t, layer):
    a = t.detach().float().cpu().numpy()
    return np.ascontiguousarray(torch_to_tfjs(layer, a) if layer is not None else a)


def from_app_layout(a, t, layer):
    return torch.from_numpy(np.ascontiguousarray(tfjs_to_torch(layer, a) if layer is not None else a).astype(np.float32).reshape(t.shape))


def load_vars(model, folder, what):
    """Variables from .npy files in the app's layout (a resume state or a best-epoch snapshot)."""
    with torch.no_grad():
        for name, t, layer in var_names(model):
            path = os.path.join(folder, f"{name}.npy")
            if not os.path.exists(path) and name.endswith(".bn.num_batches_tracked"):
                t.fill_(BN_SETTLED)  # a state from before the count: its statistics count as settled
                continue
            if not os.path.exists(path):
                raise InputError(f"{what}: variable '{name}' missing ({path})")
            a = np.load(path)
            if a.size != t.numel():
                raise InputError(f"{what}: variable '{name}' has {a.size} values, the model needs {t.numel()}")
            t.copy_(from_app_layout(a.ravel(), t, layer))
    model.sync_tracked()


def snapshot_vars(model):
    return {name: to_app_layout(t, layer) for name, t, layer in var_names(model)}


def assign_vars(model, saved):
    with torch.no_grad():
        for name, t, layer in var_names(model):
            if name not in saved:
                raise InputError(f"restore-best: no saved '{name}'")
            t.copy_(from_app_layout(np.asarray(saved[name]).ravel(), t, layer).to(t.device))
    model.sync_tracked()


def read_init(job_dir, rel, spec):
    """Float starting weights from the IR (layer.init), written by the app as .npy files."""
    if not rel:
        return {}
    folder = os.path.join(job_dir, rel)
    out = {}
    for l in spec.layers:
        if not l.has_weights:
            continue
        w_path = os.path.join(folder, f"{l.name}.weight.npy")
        if not os.path.exists(w_path):
            continue
        opt = lambda n: np.load(os.path.join(folder, f"{l.name}.{n}.npy")) if os.path.exists(os.path.join(folder, f"{l.name}.{n}.npy")) else None
        bn = {k: opt(f"bn.{k}") for k in ("gamma", "beta", "runningMean", "runningVar")}
        out[l.name] = (np.load(w_path), opt("bias"), bn if bn["gamma"] is not None else None)
    return out


def read_best(job_dir, resume, spec):
    b = resume.get("best")
    if not b:
        return None
    out = {"value": b["value"], "epoch": b["epoch"]}
    if b.get("variables"):
        folder = os.path.join(job_dir, b["variables"])
        out["variables"] = {f[:-4]: np.load(os.path.join(folder, f)) for f in os.listdir(folder) if f.endswith(".npy")}
    return out


def read_segments(job_dir, resume, spec):
    out = []
    for seg in resume.get("segments") or []:
        out.append({**{k: v for k, v in seg.items() if k != "params"}, "params": read_params(job_dir, seg["params"], spec)})
    return out


def make_adam(model, resume, job_dir, device):
    adam = torch.optim.Adam(model.trainable(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    if resume and resume.get("adamStep") is not None:
        m_all = np.load(os.path.join(job_dir, resume["dir"], "adam_m.npy")).ravel()
        v_all = np.load(os.path.join(job_dir, resume["dir"], "adam_v.npy")).ravel()
        size = sum(p.numel() for _, p, _ in trainable_names(model))
        if m_all.size != size or v_all.size != size:
            raise InputError(f"resume state: optimizer has {m_all.size} values, the model needs {size}")
        at = 0
        for _, p, layer in trainable_names(model):
            n = p.numel()
            adam.state[p] = {
                "step": torch.tensor(float(resume["adamStep"])),
                "exp_avg": from_app_layout(m_all[at:at + n], p, layer).to(device),
                "exp_avg_sq": from_app_layout(v_all[at:at + n], p, layer).to(device),
            }
            at += n
    return adam


def read_params(job_dir, rel, spec):
    out = {}
    for l in spec.layers:
        if not l.has_weights:
            continue
        w = np.load(os.path.join(job_dir, rel, f"{l.name}.weight.npy"))
        b_path = os.path.join(job_dir, rel, f"{l.name}.bias.npy")
        out[l.name] = (w, np.load(b_path) if os.path.exists(b_path) else None)
    return out


def write_params(folder, params):
    os.makedirs(folder, exist_ok=True)
    for name, (w, b) in params.items():
        np.save(os.path.join(folder, f"{name}.weight.npy"), np.ascontiguousarray(w, dtype=np.float32))
        if b is not None:
            np.save(os.path.join(folder, f"{name}.bias.npy"), np.ascontiguousarray(b, dtype=np.float32))


def describe_device(device, dist):
    threads = torch.get_num_threads()
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return f"cuda ({name}{f' ×{dist.world}, DDP' if dist.on else ''})"
    return f"cpu ({threads} thread{'s' if threads != 1 else ''}{f' ×{dist.world} processes, DDP gloo' if dist.on else ''})"


def write_snapshot(out, model, adam, spec, config, state, best, segments, float_model, bits, samples_per_second, device, dist, cancelled=False, stopped_at=None):
    """The run as the app reads it (pytorch-engine.ts readResult): parameters, the resumable state in the
    embedded engine's layouts, and result.json last (written whole, then renamed into place)."""
    os.makedirs(out, exist_ok=True)
    final = model.folded_params()
    write_params(os.path.join(out, "final"), final)
    if float_model is not None:
        write_params(os.path.join(out, "floatModel"), float_model)
    variables = write_vars(os.path.join(out, "state", "vars"), snapshot_vars(model))
    step, ms, vs = 0, [], []
    for _, p, layer in trainable_names(model):
        st = adam.state.get(p, {})
        ms.append(to_app_layout(st.get("exp_avg", torch.zeros_like(p)), layer).ravel())
        vs.append(to_app_layout(st.get("exp_avg_sq", torch.zeros_like(p)), layer).ravel())
        step = int(float(st["step"])) if "step" in st else step
    np.save(os.path.join(out, "state", "adam_m.npy"), np.concatenate(ms).astype(np.float32))
    np.save(os.path.join(out, "state", "adam_v.npy"), np.concatenate(vs).astype(np.float32))
    best_doc = None
    if best is not None:
        best_doc = {"value": best["value"], "epoch": best["epoch"]}
        if best.get("variables") is not None:
            write_vars(os.path.join(out, "state", "best"), best["variables"])
            best_doc["variables"] = "state/best"
    seg_docs = []
    for i, seg in enumerate(segments):
        write_params(os.path.join(out, "segments", str(i)), seg["params"])
        seg_docs.append({**{k: v for k, v in seg.items() if k != "params"}, "params": f"segments/{i}"})
    sq = config.get("shiftQuantile", 1)
    result = {
        "outputShifts": [output_shifts_np(*final[l.name], sq) for l in spec.layers if l.has_weights],
        "layerBits": bits,
        "samplesPerSecond": samples_per_second,
        "backend": f"PyTorch {torch.__version__} on {describe_device(device, dist)}",
        "device": device.type,
        "worldSize": dist.world,
        "state": {**state, "adamStep": step, "variables": variables, "best": best_doc, "segments": seg_docs},
        "hasFloatModel": float_model is not None,
    }
    if cancelled:
        result["cancelled"] = True
        result["stoppedAt"] = stopped_at
    tmp = os.path.join(out, ".result.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(plain(result), f, allow_nan=False)
    os.replace(tmp, os.path.join(out, "result.json"))


def write_vars(folder, saved):
    os.makedirs(folder, exist_ok=True)
    out = []
    for name, a in saved.items():
        np.save(os.path.join(folder, f"{name}.npy"), np.ascontiguousarray(a, dtype=np.float32))
        out.append({"name": name, "shape": list(np.shape(a))})
    return out
