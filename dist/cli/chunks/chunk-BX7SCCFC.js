import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
var t=process.getBuiltinModule("node:os"),e=t;var o=t.homedir,r=t.hostname;var s=t.tmpdir;export{e as a,o as b,r as c,s as d};
