"""Train live's job (rep_models.explore.TrainJob): its batch counter and its state under concurrent reads."""
from __future__ import annotations

import torch

from rep_models import explore


def _data(n: int = 300):
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)
    return x, y, (x[:16], y[:16])


def test_batch_counter_counts_batches_not_polls():
    """3 batches an epoch (300 digits, batches of 128), 3 epochs: the loss chart's x-axis runs 0..8 with no gap,
    and the progress bar is 3/9 after the first epoch (the trainer also polls should_stop once per epoch)."""
    x, y, val = _data()
    seen_after_epoch = []
    job = explore.TrainJob("linear_ae", x, y, val, epochs=3, batch_size=128)
    real_on_epoch = job._on_epoch
    job._on_epoch = lambda record: (seen_after_epoch.append(job.state().batches_done), real_on_epoch(record))
    job.start()
    job.join(60)
    s = job.state()
    assert s.status == "done", s.message
    assert s.batches_total == 9 and s.batches_done == 9
    assert [b for b, _, _ in s.losses] == list(range(9))
    assert seen_after_epoch == [3, 6, 9]


class LockChecked(explore.TrainJob):
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
        job = explore.TrainJob("linear_ae", x, y, val, epochs=1, batch_size=128, seed=0)
        job._run()  # in this thread, so that only this job touches the generator
        assert job.state().status == "done"
        after.append(torch.rand(3))
    assert not torch.equal(after[0], after[1]), "the job reseeded the process's generator"
