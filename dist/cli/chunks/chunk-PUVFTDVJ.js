import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
var e=process.getBuiltinModule("node:child_process"),o=e;var c=e.execFile;var t=e.spawn;export{o as a,c as b,t as c};
