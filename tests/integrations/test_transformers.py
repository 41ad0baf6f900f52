"""RuntuiCallback on a real Transformers Trainer: a tiny BERT built from a config, synthetic data, CPU, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers")
pytest.importorskip("accelerate")
import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

from runtui.integrations.transformers import RuntuiCallback

ROOT = Path(__file__).resolve().parents[2]


class Synthetic(torch.utils.data.Dataset):  # type: ignore[type-arg]
    """Token ids whose label is whether token 1 occurs: learnable, deterministic."""

    def __init__(self, n: int, seed: int, fail_at: int = -1) -> None:
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(2, 30, (n, 8), generator=g)
        self.ids[: n // 2, 3] = 1
        self.fail_at = fail_at

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        if i == self.fail_at:
            raise RuntimeError(f"corrupt sample {i}")
        ids = self.ids[i]
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": torch.tensor(int((ids == 1).any()))}


def _model() -> BertForSequenceClassification:
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=32, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
        max_position_embeddings=16, num_labels=2,
    )  # fmt: skip
    return BertForSequenceClassification(cfg)


def _args(out: Path) -> TrainingArguments:
    return TrainingArguments(
        output_dir=str(out),
        num_train_epochs=2,
        per_device_train_batch_size=8,
        per_device_eval_batch_size=8,
        learning_rate=0.01,
        logging_steps=1,
        eval_strategy="epoch",
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
        seed=7,
    )


def test_train_and_evaluate_log_metrics_properties_and_model(workspace: Any, tmp_path: Path) -> None:
    cb = RuntuiCallback(experiment_name="hf", workspace=workspace, display_name="tiny-bert")
    trainer = Trainer(
        model=_model(), args=_args(tmp_path / "out"), train_dataset=Synthetic(32, 1),
        eval_dataset=Synthetic(16, 2), callbacks=[cb],
    )  # fmt: skip
    trainer.train()
    final = trainer.evaluate()
    cb.finish()

    run = workspace.get_run(cb.run.id)
    assert run.get_status() == "Completed" and run.display_name == "tiny-bert"
    series = {s.name: s for s in workspace.store.get_series(run.id)}
    # 32 samples / batch 8 = 4 steps per epoch, 2 epochs: a loss per step, with the Trainer's global step
    assert series["loss"].steps == list(range(1, 9))
    assert series["learning_rate"].steps == list(range(1, 9))
    # eval at each epoch end (steps 4 and 8) and once more from evaluate(), at step 8
    assert series["eval_loss"].steps == [4, 8, 8]
    assert series["eval_loss"].values[-1] == pytest.approx(final["eval_loss"])
    assert "train_runtime" in series and "total_flos" not in series
    props = run.get_properties()
    assert props["learning_rate"] == "0.01" and props["num_train_epochs"] == "2" and props["seed"] == "7"
    assert props["model/hidden_size"] == "8" and props["model/model_type"] == "bert"
    assert not any("token" in k.lower() for k in props if not k.startswith("model/"))
    files = run.get_file_names()
    assert "outputs/model/config.json" in files and "outputs/model/model.safetensors" in files
    saved = json.loads((run.folder / "outputs/model/config.json").read_text())
    assert saved["hidden_size"] == 8


def test_failing_train_ends_failed_with_the_error(tmp_path: Path) -> None:
    """A script whose Trainer raises: the run ends Failed with the traceback when the process dies of it."""
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(Path(__file__).parent)!r})
            import runtui
            from test_transformers import Synthetic, _args, _model
            from transformers import Trainer
            from runtui.integrations.transformers import RuntuiCallback

            cb = RuntuiCallback(experiment_name="hf", workspace=runtui.Workspace(path={str(tmp_path / "ws")!r}))
            print(cb.run.id, flush=True)
            Trainer(model=_model(), args=_args({str(tmp_path / "out")!r}), train_dataset=Synthetic(32, 1, fail_at=5),
                    eval_dataset=Synthetic(8, 2), callbacks=[cb]).train()
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": "", "HF_HUB_OFFLINE": "1"}
    env.pop("RUNTUI_RUN_ID", None)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode != 0, proc.stderr[-2000:]
    run_id = proc.stdout.split()[0]
    import runtui

    rec = runtui.Workspace(path=tmp_path / "ws").store.get_run(run_id)
    assert rec.status.value == "Failed"
    assert "corrupt sample 5" in (rec.error or "")
