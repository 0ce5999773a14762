"""A connection's job queue on its own (emotion/live/jobs.py): order, the frames it counts, failures
and the end of a connection. Plain asyncio, no socket; handlers wait on events, never on time."""

import asyncio

from emotion.live.jobs import Command, Frame, JobQueue


def run(coro):
    return asyncio.run(coro)


def test_frames_and_commands_run_one_at_a_time_in_arrival_order():
    async def go():
        done, seen = [], asyncio.Event()
        queue = JobQueue(max_frames=2, max_commands=10, frame_done=lambda: done.append(queue.pending))

        async def handle(job):
            seen_jobs.append(job.seq if isinstance(job, Frame) else job.cmd["type"])
            if len(seen_jobs) == 4:
                seen.set()
        seen_jobs = []
        queue.put_frame(Frame(0, b"a", 0.0))
        queue.put_command({"type": "stop"})
        queue.put_frame(Frame(1, b"b", 0.0))
        assert queue.pending == 2 and queue.waiting == 3
        queue.start(handle, failed=None)
        queue.put_command({"type": "reset"})
        await seen.wait()
        await queue.finish(5)
        return seen_jobs, done, queue.pending

    order, done, pending = run(go())
    assert order == [0, "stop", 1, "reset"]
    assert done == [1, 0]                         # each frame counted until its handler ended
    assert pending == 0


def test_a_failing_job_goes_to_failed_and_the_next_one_runs():
    async def go():
        failed, ran = [], asyncio.Event()
        queue = JobQueue(2, 10)

        async def handle(job):
            if isinstance(job, Frame) and job.seq == 0:
                raise ValueError("bad frame")
            ran.set()

        async def on_failure(job):
            failed.append(job)
        queue.put_frame(Frame(0, b"", 0.0))
        queue.put_command({"type": "reset"})
        queue.start(handle, on_failure)
        await ran.wait()
        await queue.finish(5)
        return failed, queue.pending

    failed, pending = run(go())
    assert [f.seq for f in failed] == [0] and pending == 0


def test_finish_drops_waiting_frames_and_lets_the_running_one_end():
    async def go():
        started, release = asyncio.Event(), asyncio.Event()
        handled, done = [], []
        queue = JobQueue(3, 10, frame_done=lambda: done.append(1))

        async def handle(job):
            started.set()
            await release.wait()
            handled.append(job.seq)
        for seq in range(3):
            queue.put_frame(Frame(seq, b"", 0.0))
        queue.start(handle, None)
        await started.wait()
        finishing = asyncio.ensure_future(queue.finish(5))
        await asyncio.sleep(0)                    # let finish drop the waiting frames first
        release.set()
        await finishing
        return handled, done, queue.pending

    handled, done, pending = run(go())
    assert handled == [0] and done == [1]
    assert pending == 2                           # never analysed: given back by the caller (admission.close)


def test_a_worker_stuck_past_the_wait_is_cancelled_and_its_frame_still_counted_done():
    async def go():
        started, done = asyncio.Event(), []
        queue = JobQueue(1, 10, frame_done=lambda: done.append(1))

        async def handle(job):
            started.set()
            await asyncio.Event().wait()          # never returns
        queue.put_frame(Frame(0, b"", 0.0))
        queue.start(handle, None)
        await started.wait()
        await queue.finish(0)
        await asyncio.gather(queue._worker, return_exceptions=True)
        return done, queue.pending, queue._worker.cancelled()

    done, pending, cancelled = run(go())
    assert cancelled and done == [1] and pending == 0


def test_finish_without_a_worker_does_nothing():
    queue = JobQueue(1, 1)
    run(queue.finish(5))
    assert queue.pending == 0 and isinstance(Command({"type": "stop"}), Command)

