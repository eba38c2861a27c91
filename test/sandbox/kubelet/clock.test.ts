/**
 * The node's clock (attachNode's `clock`) is its kubelet's and its Event recorder's: a pod run on a FakeClock that
 * never moves carries that clock's time in its status, its Events and its log lines.
 */
import { text } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../support/fake-clock.js';
import { eventsFor, startHarness, waitFor, type Harness } from '../controllers/helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe("the node's clock", () => {
  it("stamps the kubelet's status, its Events and the log lines", async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock });
    const store = h.store;
    store.create('pods', 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'timed' },
      spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo hello'] }] },
    });
    const pod = await waitFor(store, () => store.get('pods', 'default', 'timed').status?.phase === 'Succeeded' && store.get('pods', 'default', 'timed'), 'Succeeded');
    const now = '2030-01-01T00:00:00Z';
    expect(pod.status.startTime).toBe(now);
    expect(pod.status.containerStatuses[0].state.terminated).toMatchObject({ startedAt: now, finishedAt: now });
    const kubeletEvents = await waitFor(store, () => {
      const events = eventsFor(store, 'default', 'timed').filter((e) => e.source?.component === 'kubelet');
      return events.some((e) => e.reason === 'Started') && events;
    }, 'the kubelet Events');
    for (const e of kubeletEvents) expect([e.reason, e.firstTimestamp, e.lastTimestamp]).toEqual([e.reason, now, now]);
    expect(await text(h.kubelet.logs.open('default', 'timed', { timestamps: true }))).toBe(`${now} hello\n`);
  });
});
