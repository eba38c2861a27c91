import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
var e=process.getBuiltinModule("node:events");var t=e.EventEmitter;export{t as a};
