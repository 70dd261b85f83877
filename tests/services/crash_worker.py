"""A worker that dies mid-step: claims a run, completes step "one", begins step "two",
prints its lease and attempt as JSON, then hangs until it is killed.

Run as `python -m tests.services.crash_worker ADDRESS NAMESPACE`.
"""

from __future__ import annotations

import json
import sys
import time

import grpc
from google.protobuf import duration_pb2, struct_pb2

from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import worker_service_pb2_grpc


def main() -> None:
    address, namespace = sys.argv[1], sys.argv[2]
    with grpc.insecure_channel(address) as channel:
        worker = worker_service_pb2_grpc.WorkerServiceStub(channel)  # type: ignore[no-untyped-call]
        polled = worker.PollActivity(
            wk.PollActivityRequest(
                namespace_id=namespace, worker_id="doomed", wait=duration_pb2.Duration(seconds=20)
            )
        )
        task = polled.tasks[0]
        lease = {"namespace_id": namespace, "run_id": task.run.run_id, "lease_id": task.lease_id}
        worker.CompleteStep(
            wk.CompleteStepRequest(
                **lease, step_id="one", output=struct_pb2.Value(string_value="first")
            )
        )
        begun = worker.BeginStep(wk.BeginStepRequest(**lease, step_id="two"))
        print(json.dumps({**lease, "step_attempt_id": begun.step_attempt.step_attempt_id}))
        sys.stdout.flush()
        time.sleep(3600)  # mid-step, no heartbeats: the test kills us here


if __name__ == "__main__":
    main()
