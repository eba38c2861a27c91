/**
 * The store's stored objects are shared with readers that only look (`peek`, `view`, subscribers' events) and frozen,
 * so a reader cannot change the store by mistake; `get`, `find` and `list` still hand out copies to change.
 */
import { describe, expect, it } from 'vitest';
import { createClusterStore } from '../../../src/sandbox/apiserver/index.js';
import type { KubeObject, StoreEvent } from '../../../src/sandbox/types.js';

const configMap = (data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', labels: { app: 'a' } }, data });

describe('shared stored objects', () => {
  it('are handed to peek, view and subscribers as one frozen object; changing it throws and the store is unchanged', () => {
    const s = createClusterStore();
    const heard: StoreEvent[] = [];
    const unsubscribe = s.subscribe((e) => heard.push(e));
    s.create('configmaps', 'default', configMap({ k: 'v1' }));
    unsubscribe();

    const peeked = s.peek('configmaps', 'default', 'cm')!;
    const [viewed] = s.view('configmaps', 'default', { labelSelector: 'app=a' });
    expect(viewed).toBe(peeked);
    expect(heard.map((e) => e.object)).toEqual([peeked]);
    expect(heard[0]!.object).toBe(peeked);
    expect(Object.isFrozen(peeked.data)).toBe(true);
    expect(() => {
      peeked.data.k = 'changed';
    }).toThrow(TypeError);
    expect(() => {
      peeked.metadata.labels!.app = 'b';
    }).toThrow(TypeError);
    expect(s.get('configmaps', 'default', 'cm').data).toEqual({ k: 'v1' });
  });

  it('are copied by get, find and list, whose objects may be changed and written back', () => {
    const s = createClusterStore();
    s.create('configmaps', 'default', configMap({ k: 'v1' }));
    const before = s.peek('configmaps', 'default', 'cm')!;
    for (const copy of [s.get('configmaps', 'default', 'cm'), s.find('configmaps', 'default', 'cm')!, s.list('configmaps', 'default').items[0]!]) {
      expect(copy).not.toBe(before);
      expect(Object.isFrozen(copy)).toBe(false);
      copy.data.k = 'local';
    }
    const mine = s.get('configmaps', 'default', 'cm');
    mine.data.k = 'v2';
    s.update('configmaps', 'default', 'cm', mine);
    // A write stores a new object: what a reader held stays as it was (a snapshot), the next peek sees the change.
    expect(before.data).toEqual({ k: 'v1' });
    expect(s.peek('configmaps', 'default', 'cm')!.data).toEqual({ k: 'v2' });
    expect(s.view('configmaps', 'default', { labelSelector: 'app=b' })).toEqual([]);
  });
});

describe('a subscriber that throws', () => {
  it('is reported with the event, and neither the write nor the other subscribers notice', () => {
    const failures: { error: unknown; event: StoreEvent }[] = [];
    const s = createClusterStore({ onSubscriberError: (error, event) => failures.push({ error, event }) });
    const heard: string[] = [];
    // The bug freezing catches: a subscriber changing the event's (shared, frozen) object.
    s.subscribe((e) => {
      e.object.metadata.labels!.app = 'changed';
    });
    s.subscribe((e) => heard.push(`${e.type} ${e.object.metadata.name}`));
    const created = s.create('configmaps', 'default', configMap({ k: 'v1' }));

    expect(created.metadata.labels).toEqual({ app: 'a' });
    expect(heard).toEqual(['ADDED cm']);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.error).toBeInstanceOf(TypeError);
    expect(failures[0]!.event.type).toBe('ADDED');
    expect(failures[0]!.event.object.metadata.name).toBe('cm');
    expect(s.peek('configmaps', 'default', 'cm')!.metadata.labels).toEqual({ app: 'a' });
  });
});
