import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
import{d as s,g as i}from"./chunk-BDZ3SB5W.js";import{g as e,h as r}from"./chunk-DTSTNYQR.js";function l(o,n){try{return r({...o,imagePullSecrets:n})}catch(t){throw t instanceof e?new i(s,`error: --${t.setting} must be ${t.expected}, got '${t.got}'`):t}}export{l as a};
