import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
var t=process.getBuiltinModule("node:util");var o=t.styleText;var e=t.promisify,r=t.stripVTControlCharacters;export{o as a,e as b,r as c};
