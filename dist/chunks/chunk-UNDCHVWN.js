import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
var t=process.getBuiltinModule("node:vm"),e=t;var n=t.runInNewContext;export{e as a,n as b};
