"""Train live's job (rep_models.training.live.TrainJob): its batch counter and its state under concurrent reads."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from rep_models.training.live import MAX_EPOCHS, TrainJob, TrainSlot, TrainState


def _data(n: int = 300):
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)
    return x, y, (x[:16], y[:16])


def test_batch_counter_counts_batches_not_polls():
    """3 batches an epoch (300 digits, batches of 128), 3 epochs: the loss chart's x-axis runs 0..8 with no gap,
    and the progress bar is 3/9 after the first epoch (the trainer also polls should_stop once per epoch)."""
    x, y, val = _data()
    seen_after_epoch = []
    job = TrainJob("linear_ae", x, y, val, epochs=3, batch_size=128)
    real_on_epoch = job._on_epoch
    job._on_epoch = lambda record: (seen_after_epoch.append(job.state().batches_done), real_on_epoch(record))
    job.start()
    job.join(60)
    s = job.state()
    assert s.status == "done", s.message
    assert s.batches_total == 9 and s.batches_done == 9
    assert [b for b, _, _ in s.losses] == list(range(9))
    assert seen_after_epoch == [3, 6, 9]


class LockChecked(TrainJob):
    """A TrainJob that fails (status "failed") if, once started, it writes shared state without its lock."""

    SHARED = ("_batches", "_snapshot", "model", "_status", "_message", "_t1", "_records")

    def start(self):
        object.__setattr__(self, "_started", True)
        return super().start()

    def __setattr__(self, key, value):
        if getattr(self, "_started", False) and key in self.SHARED and not self._lock.locked():
            raise AssertionError(f"{key} written without the lock")
        object.__setattr__(self, key, value)


def test_shared_state_is_written_under_the_lock():
    x, y, val = _data()
    job = LockChecked("linear_ae", x, y, val, epochs=2, batch_size=128).start()
    job.join(60)
    s = job.state()
    assert s.status == "done", s.message
    assert job.model is not None and s.snapshot is not None


def test_a_job_does_not_reseed_the_servers_generator():
    """Train live runs in a server thread: it must not reset the random stream the other requests draw from.
    A reseed would make the stream after a job the same whatever it was before."""
    x, y, val = _data()
    after = []
    for start in (1, 2):
        torch.manual_seed(start)
        job = TrainJob("linear_ae", x, y, val, epochs=1, batch_size=128, seed=0)
        job._run()  # in this thread, so that only this job touches the generator
        assert job.state().status == "done"
        after.append(torch.rand(3))
    assert not torch.equal(after[0], after[1]), "the job reseeded the process's generator"


def _job(mnist_val, **kw):
    x, y = mnist_val
    return TrainJob(kw.pop("name", "linear_ae"), x[:256], y[:256], (x[-16:], y[-16:]), **kw)


def test_train_job_trains_a_copy_and_reports_progress(mnist_val):
    job = _job(mnist_val, epochs=2).start()
    job.join(60)
    s = job.state()
    assert s.status == "done", s.message
    assert s.progress == 1.0 and len(s.records) == 2 and len(s.losses) >= 4
    assert s.snapshot.shape == (2 * 30 - 2, 8 * 30 - 2)  # held-out digits over their reconstructions
    assert s.losses[-1][2] < s.losses[0][2]  # measured 0.118 < 0.133 (2026-12-01)


def test_train_job_cancels_and_stops_without_heartbeat(mnist_val):
    job = _job(mnist_val, epochs=20).start()
    job.cancel()
    job.join(30)
    assert job.state().status == "cancelled"
    orphan = _job(mnist_val, epochs=20, heartbeat_timeout=0.0).start()
    orphan.join(30)
    assert orphan.state().status == "cancelled" and "closed" in orphan.state().message


def test_train_slot_runs_one_job_at_a_time(mnist_val):
    slot = TrainSlot()
    first = _job(mnist_val, epochs=20)
    assert slot.claim(first)
    assert not slot.claim(_job(mnist_val, epochs=1)) and slot.current() is first
    first.cancel()
    first.join(30)
    second = _job(mnist_val, epochs=1)
    assert slot.claim(second)
    second.join(30)


def test_train_job_rejects_unsafe_requests(mnist_val):
    with pytest.raises(ValueError, match="cannot train"):
        _job(mnist_val, name="sda")
    with pytest.raises(ValueError, match="epochs"):
        _job(mnist_val, epochs=MAX_EPOCHS + 1)


def test_train_job_dcgan_snapshot_is_samples(mnist_val):
    job = _job(mnist_val, name="dcgan", epochs=1).start()
    job.join(60)
    s = job.state()
    assert s.status == "done", s.message
    assert {name for _, name, _ in s.losses} == {"discriminator", "generator"}
    assert s.snapshot.shape == (4 * 30 - 2, 8 * 30 - 2)


def test_loss_curves_smooth_each_series_and_held_out_points_sit_at_epoch_ends():
    losses = [(b, "training loss", float(v)) for b, v in enumerate(np.linspace(1.0, 0.1, 30))]
    s = TrainState("linear_ae", "done", 3, 300, 30, 30, losses, [{"epoch": e, "val_loss": 0.5} for e in (1, 2, 3)], None, 1.0)
    c = s.loss_curves()["training loss"]
    assert len(c.losses) == 30 and len(c.smooth) == 30 - 8  # a 9-batch moving average
    assert c.smooth_batches[0] == 8 and c.smooth[0] == pytest.approx(c.losses[:9].mean())
    short = TrainState("linear_ae", "running", 3, 300, 5, 30, losses[:5], [], None, 1.0).loss_curves()["training loss"]
    assert np.array_equal(short.smooth, short.losses)  # too few batches to average: the raw values
    assert s.held_out() == [(10.0, 0.5), (20.0, 0.5), (30.0, 0.5)]
    gan = TrainState("dcgan", "done", 3, 300, 30, 30, losses, [{"epoch": 1, "val_loss": 0.5}], None, 1.0, adversarial=True)
    assert gan.held_out() == []


def test_a_gan_job_says_it_is_adversarial():
    x, y, val = _data(16)
    assert TrainJob("dcgan", x, y, val).adversarial and not TrainJob("linear_ae", x, y, val).adversarial
