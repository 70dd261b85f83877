"""A worker that dies mid-step: claims a run, completes step "one", begins step "two",
prints its lease and attempt as JSON, then hangs until it is killed.

Run as `python -m tests.services.crash_worker ADDRESS NAMESPACE`.
"""

from __future__ import annotations

import json
import sys
import time

import grpc
from google.protobuf import duration_pb2, json_format, struct_pb2

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
        lease = task.lease
        worker.CompleteStep(
            wk.CompleteStepRequest(
                lease=lease, step_id="one", output=struct_pb2.Value(string_value="first")
            )
        )
        begun = worker.BeginStep(wk.BeginStepRequest(lease=lease, step_id="two"))
        claim = {
            "lease": json_format.MessageToDict(lease),
            "step_attempt_id": begun.step_attempt.step_attempt_id,
        }
        print(json.dumps(claim))
        sys.stdout.flush()
        time.sleep(3600)  # mid-step, no heartbeats: the test kills us here


if __name__ == "__main__":
    main()
