/** Something to log controller and kubelet trouble to; defaults to nothing (they must never crash the host). */
export type LogFn = (message: string) => void;
