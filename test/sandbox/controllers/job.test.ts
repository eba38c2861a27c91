import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventsFor, job, podsOf, startHarness, waitFor, type Harness } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  if (h.logs.length) console.log(h.logs.join("\n"));
  await h.stop();
});

const cond = (j: any, type: string) => (j.status?.conditions ?? []).find((c: any) => c.type === type);

describe('job controller', () => {
  it('a succeeding job ends Complete with completionTime, SuccessCriteriaMet first', async () => {
    const created = h.store.create('batch/jobs', 'default', job('ok', 'echo hello; exit 0'));
    const done = await waitFor(h.store, () => {
      const j = h.store.get('batch/jobs', 'default', 'ok');
      return cond(j, 'Complete')?.status === 'True' && j;
    }, 'job Complete');
    expect(done.status.conditions.map((c: any) => [c.type, c.status, c.reason])).toEqual([
      ['SuccessCriteriaMet', 'True', 'CompletionsReached'],
      ['Complete', 'True', 'CompletionsReached'],
    ]);
    expect(done.status.succeeded).toBe(1);
    expect(done.status.failed).toBeUndefined();
    expect(done.status.active).toBeUndefined();
    expect(done.status.ready).toBe(0);
    expect(done.status.terminating).toBe(0);
    expect(done.status.startTime).toMatch(/Z$/);
    expect(done.status.completionTime).toMatch(/Z$/);
    const pods = podsOf(h.store, 'default', created.metadata.uid!);
    expect(pods).toHaveLength(1);
    expect(pods[0].metadata.name).toMatch(/^ok-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(pods[0].status.phase).toBe('Succeeded');
    expect(pods[0].metadata.finalizers ?? []).not.toContain('batch.kubernetes.io/job-tracking');
    expect(pods[0].status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const reasons = eventsFor(h.store, 'default', 'ok').map((e) => e.reason);
    expect(reasons).toContain('SuccessfulCreate');
    expect(reasons).toContain('Completed');
  });

  it('a failing job with backoffLimit 2 runs exactly 3 pods and ends Failed/BackoffLimitExceeded', async () => {
    const created = h.store.create('batch/jobs', 'default', job('bad', 'exit 1', { backoffLimit: 2 }));
    const done = await waitFor(h.store, () => {
      const j = h.store.get('batch/jobs', 'default', 'bad');
      return cond(j, 'Failed')?.status === 'True' && j;
    }, 'job Failed');
    expect(done.status.conditions.map((c: any) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
      ['Failed', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
    ]);
    expect(done.status.failed).toBe(3);
    expect(done.status.completionTime).toBeUndefined();
    const pods = podsOf(h.store, 'default', created.metadata.uid!);
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.status.phase).toBe('Failed');
      expect(p.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    }
    // No fourth pod shows up afterwards.
    await new Promise((r) => setTimeout(r, 300));
    expect(podsOf(h.store, 'default', created.metadata.uid!)).toHaveLength(3);
    expect(eventsFor(h.store, 'default', 'bad').some((e) => e.reason === 'BackoffLimitExceeded' && e.type === 'Warning')).toBe(true);
  });

  it('a job past activeDeadlineSeconds ends Failed/DeadlineExceeded and its pod is killed', async () => {
    h.store.create('batch/jobs', 'default', job('slow', 'sleep 30', { activeDeadlineSeconds: 1 }));
    const done = await waitFor(h.store, () => {
      const j = h.store.get('batch/jobs', 'default', 'slow');
      return cond(j, 'Failed')?.status === 'True' && j;
    }, 'job Failed');
    expect(done.status.conditions.map((c: any) => [c.type, c.reason, c.message])).toEqual([
      ['FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline'],
      ['Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline'],
    ]);
    expect(done.status.failed).toBe(1);
    expect(done.status.active).toBeUndefined();
    expect(done.status.terminating).toBe(0);
  });
});
