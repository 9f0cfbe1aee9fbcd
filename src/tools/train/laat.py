"""Trains the label-wise attention (LAAT-style) ICD-10-CM classifier with PyTorch.

Called by src/tools/train/train.ts, never alone: the TypeScript side tokenizes the documents with
the project's own tokenizer and windows them exactly as the service does, writes them as JSON,
and after training builds model.onnx from the weights this script writes (so the inference
graph comes from the same builder as every other model of the project).

Model, per window of token ids x_1..x_T (padding masked):
    h_t   = tanh(conv_k(embed(x))_t)                 contextual token vectors   [T, H]
    a_l   = softmax_t(U_l . tanh(W h_t))             attention of label l       [T]
    s_lt  = a_lt * (v_l . h_t)                       token contribution         [T, L]
    logit_l = b_l + sum_t s_lt                       window logit
A document's logit is the max over its windows (the service pools the same way). The token
contributions s are exact (the logit minus its bias is their sum) and are exported as the
model's `token_scores` output, the evidence of each suggestion.

Training: K-fold cross-validation over the training documents. Each fold model trains on the
other folds with early stopping on its own fold; their out-of-fold probabilities (one per
training document, from a model that never saw it) are what thresholds are tuned on. The
final model then trains on all training documents for the median of the folds' best epoch
counts. Folds run two at a time (two processes, one thread each: Debian's torch is built
without OpenMP, so two processes are what uses two cores).

Output in --out: weights.bin (float32 little-endian, concatenated) and weights.json (name,
shape, offset of each tensor, hyper-parameters, fold logs), oof-probabilities.json (per
training document, per label) and train-probabilities.json (the final model on the training
documents, for the parity check against onnxruntime).
Runs on Debian's python3-torch (/usr/bin/python3).
"""
import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
import warnings

import numpy as np
import torch
from torch import nn

warnings.filterwarnings("ignore", message="scatter_reduce")


class Laat(nn.Module):
    def __init__(self, vocab, pad_id, labels, dim, hidden, attention, kernel, dropout):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=pad_id)
        self.conv = nn.Conv1d(dim, hidden, kernel, padding=kernel // 2)
        self.w = nn.Linear(hidden, attention, bias=False)
        self.u = nn.Linear(attention, labels, bias=False)
        self.v = nn.Parameter(torch.empty(labels, hidden))
        self.b = nn.Parameter(torch.zeros(labels))
        self.drop = nn.Dropout(dropout)
        nn.init.xavier_uniform_(self.v)

    def forward(self, ids, mask):
        x = self.drop(self.embed(ids))                                # N, T, D
        h = self.drop(torch.tanh(self.conv(x.transpose(1, 2))).transpose(1, 2))  # N, T, H
        scores = self.u(torch.tanh(self.w(h)))                        # N, T, L
        scores = scores.masked_fill(mask.unsqueeze(2) == 0, -1e4)
        attention = torch.softmax(scores, dim=1)                       # over tokens
        contributions = attention * (h @ self.v.t()) * mask.unsqueeze(2)
        return contributions.sum(1) + self.b, contributions


def batches_of(docs, size, rng=None):
    order = list(range(len(docs)))
    if rng is not None:
        rng.shuffle(order)
    for i in range(0, len(order), size):
        yield [docs[j] for j in order[i:i + size]]


def tensors_of(batch, pad_id, labels):
    """Windows of a batch of documents, right-padded, and the document of each window."""
    windows = [w for doc in batch for w in doc["windows"]]
    owner = torch.tensor([k for k, doc in enumerate(batch) for _ in doc["windows"]])
    length = max(len(w) for w in windows)
    ids = torch.full((len(windows), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(windows), length), dtype=torch.float32)
    for i, w in enumerate(windows):
        ids[i, : len(w)] = torch.tensor(w)
        mask[i, : len(w)] = 1
    target = torch.zeros((len(batch), labels))
    for k, doc in enumerate(batch):
        target[k, doc["labels"]] = 1
    return ids, mask, owner, target


def document_logits(window_logits, owner, count):
    """Max over each document's windows."""
    out = torch.full((count, window_logits.shape[1]), -1e9)
    return out.scatter_reduce(0, owner.unsqueeze(1).expand_as(window_logits), window_logits, reduce="amax")


def probabilities(model, docs, pad_id, labels):
    model.eval()
    result = []
    with torch.no_grad():
        for batch in batches_of(docs, 32):
            ids, mask, owner, _ = tensors_of(batch, pad_id, labels)
            logits, _ = model(ids, mask)
            result.append(torch.sigmoid(document_logits(logits, owner, len(batch))))
    return torch.cat(result).numpy()


def best_micro_f1(probs, docs):
    """Micro-F1 at the best global threshold (the quantity early stopping watches)."""
    gold = np.zeros_like(probs, dtype=bool)
    for k, doc in enumerate(docs):
        gold[k, doc["labels"]] = True
    best = 0.0
    for t in np.arange(0.05, 0.951, 0.01):
        pred = probs >= t
        denom = pred.sum() + gold.sum()
        best = max(best, 2 * np.logical_and(pred, gold).sum() / denom if denom else 0.0)
    return float(best)


def train_model(job):
    """Trains one model: with `held_out`, early stopping on it; otherwise a fixed epoch count."""
    args, data, train_docs, held_out, epochs, seed, name = job
    torch.set_num_threads(1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    pad_id, labels = data["padId"], len(data["labels"])
    model = Laat(data["vocabSize"], pad_id, labels, args.dim, args.hidden, args.attention, args.kernel, args.dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    loss_fn = nn.BCEWithLogitsLoss()
    rng = random.Random(seed)
    log, best, best_epoch, best_state, waited = [], -1.0, 0, None, 0
    for epoch in range(1, epochs + 1):
        model.train()
        started, total = time.time(), 0.0
        for batch in batches_of(train_docs, args.batch, rng):
            ids, mask, owner, target = tensors_of(batch, pad_id, labels)
            logits, _ = model(ids, mask)
            loss = loss_fn(document_logits(logits, owner, len(batch)), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        entry = {"model": name, "epoch": epoch, "loss": round(total / len(train_docs), 5), "seconds": round(time.time() - started, 2)}
        if held_out:
            f1 = best_micro_f1(probabilities(model, held_out, pad_id, labels), held_out)
            entry["heldOutMicroF1"] = round(f1, 4)
            if f1 > best + 1e-6:
                best, best_epoch, waited = f1, epoch, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                waited += 1
        log.append(entry)
        print(json.dumps(entry), file=sys.stderr, flush=True)
        if held_out and waited >= args.patience:
            break
    if held_out:
        model.load_state_dict(best_state)
        return {"name": name, "bestEpoch": best_epoch, "bestMicroF1": round(best, 4), "log": log,
                "probabilities": probabilities(model, held_out, pad_id, labels)}
    return {"name": name, "log": log, "model": model}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--input", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--patience", type=int, default=12)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--attention", type=int, default=64)
    p.add_argument("--kernel", type=int, default=3)
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--processes", type=int, default=2)
    args = p.parse_args()

    with open(args.input, encoding="utf-8") as f:
        data = json.load(f)
    docs = data["documents"]
    labels = len(data["labels"])
    jobs = []
    for k in range(args.folds):
        train_docs = [d for d in docs if d["fold"] != k]
        held_out = [d for d in docs if d["fold"] == k]
        jobs.append((args, data, train_docs, held_out, args.epochs, args.seed + k, f"fold-{k}"))
    with multiprocessing.get_context("fork").Pool(max(1, min(args.processes, args.folds))) as pool:
        folds = pool.map(train_model, jobs)

    oof = np.zeros((len(docs), labels), dtype=np.float32)
    for k, fold in enumerate(folds):
        oof[[i for i, d in enumerate(docs) if d["fold"] == k]] = fold["probabilities"]
    epochs = int(statistics.median(f["bestEpoch"] for f in folds))
    final = train_model((args, data, docs, None, epochs, args.seed, "final"))
    model = final["model"]

    os.makedirs(args.out, exist_ok=True)
    tensors = {
        "embedding": model.embed.weight,               # V, D
        "conv_weight": model.conv.weight,              # H, D, k
        "conv_bias": model.conv.bias,                  # H
        "attention_w": model.w.weight.t(),             # H, A
        "attention_u": model.u.weight.t(),             # A, L
        "output_v": model.v.t(),                       # H, L
        "output_b": model.b,                           # L
    }
    manifest, offset = [], 0
    with open(os.path.join(args.out, "weights.bin"), "wb") as f:
        for name, tensor in tensors.items():
            array = tensor.detach().contiguous().numpy().astype("<f4")
            f.write(array.tobytes())
            manifest.append({"name": name, "shape": list(array.shape), "offset": offset})
            offset += array.nbytes
    hyper = {k: getattr(args, k) for k in ["seed", "folds", "epochs", "patience", "batch", "lr", "weight_decay", "dim", "hidden", "attention", "kernel", "dropout"]}
    with open(os.path.join(args.out, "weights.json"), "w", encoding="utf-8") as f:
        json.dump({"tensors": manifest, "hyperParameters": hyper, "finalEpochs": epochs,
                   "folds": [{"name": x["name"], "bestEpoch": x["bestEpoch"], "bestMicroF1": x["bestMicroF1"]} for x in folds],
                   "log": [e for x in folds for e in x["log"]] + final["log"], "torch": torch.__version__}, f, indent=2)
    with open(os.path.join(args.out, "oof-probabilities.json"), "w", encoding="utf-8") as f:
        json.dump(oof.round(6).tolist(), f)
    with open(os.path.join(args.out, "train-probabilities.json"), "w", encoding="utf-8") as f:
        json.dump(probabilities(model, docs, data["padId"], labels).round(6).tolist(), f)


if __name__ == "__main__":
    main()
