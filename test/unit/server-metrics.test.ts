import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerMetrics, serverDelta, serverPathMs } from '../../bench/server-metrics';

// Lines as the dev server's Prometheus page writes them (labels trimmed to the ones that matter).
const before = `
# HELP service_requests service_requests counter
service_requests{namespace="default",operation="RespondWorkflowTaskCompleted",service_name="frontend"} 4
service_requests{namespace="bench",operation="RespondWorkflowTaskCompleted",service_name="frontend"} 1
service_latency_sum{namespace="default",operation="RespondWorkflowTaskCompleted",service_name="frontend"} 0.005
service_requests{operation="PollWorkflowTaskQueue",service_name="frontend"} 3
service_latency_sum{operation="PollWorkflowTaskQueue",service_name="frontend"} 9
service_requests{operation="AddWorkflowTask",service_name="matching"} 2
service_latency_sum{operation="AddWorkflowTask",service_name="matching"} 0.002
persistence_requests{operation="UpdateWorkflowExecution",service_name="history"} 7
persistence_latency_sum{operation="UpdateWorkflowExecution",service_name="history"} 0.0035
persistence_latency_bucket{operation="UpdateWorkflowExecution",service_name="history",le="0.001"} 7
`;
const after = before
  .replace(
    'operation="RespondWorkflowTaskCompleted",service_name="frontend"} 4',
    'operation="RespondWorkflowTaskCompleted",service_name="frontend"} 104',
  )
  .replace('service_name="frontend"} 0.005', 'service_name="frontend"} 0.205')
  .replace('service_name="frontend"} 3', 'service_name="frontend"} 103')
  .replace('service_name="frontend"} 9', 'service_name="frontend"} 60')
  .replace('service_name="matching"} 2\n', 'service_name="matching"} 102\n')
  .replace('service_name="matching"} 0.002', 'service_name="matching"} 0.152')
  .concat(
    // Inside AddWorkflowTask when a poller waits: on the list, not on the path a second time.
    'service_requests{operation="RecordWorkflowTaskStarted",service_name="history"} 100\n',
    'service_latency_sum{operation="RecordWorkflowTaskStarted",service_name="history"} 0.1\n',
  );

describe('server metrics', () => {
  it('sums a counter over every label but service and operation, latencies in ms', () => {
    const ops = parseServerMetrics(before);
    const respond = ops.find((op) => op.operation === 'RespondWorkflowTaskCompleted')!;
    assert.deepEqual(respond, {
      kind: 'service',
      service: 'frontend',
      operation: 'RespondWorkflowTaskCompleted',
      requests: 5,
      totalMs: 5,
    });
    const writes = ops.find((op) => op.kind === 'persistence')!;
    assert.equal(writes.requests, 7, 'histogram buckets are not counted as requests');
    assert.equal(writes.totalMs, 3.5);
  });

  it("takes the difference, leaves out what did not move, and counts a step's path without long polls", () => {
    const delta = serverDelta(parseServerMetrics(before), parseServerMetrics(after));
    assert.deepEqual(delta.map((op) => `${op.service} ${op.operation} ${op.requests}`).sort(), [
      'frontend PollWorkflowTaskQueue 100',
      'frontend RespondWorkflowTaskCompleted 100',
      'history RecordWorkflowTaskStarted 100',
      'matching AddWorkflowTask 100',
    ]);
    // 200 ms answering the worker + 150 ms dispatching tasks; the 51 s of polls are waiting.
    assert.ok(Math.abs(serverPathMs(delta) - 350) < 1e-9, `path ${serverPathMs(delta)} ms`);
  });
});
