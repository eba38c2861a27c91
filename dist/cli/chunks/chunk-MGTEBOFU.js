import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
var t=process.getBuiltinModule("node:util");var e=t.styleText;var o=t.promisify,r=t.stripVTControlCharacters;export{e as a,o as b,r as c};
