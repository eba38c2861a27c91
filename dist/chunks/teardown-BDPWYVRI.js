import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-B722YDOK.js";import"./chunk-IIKOBA7Q.js";import"./chunk-JECEZDT7.js";import"./chunk-RWSXLREW.js";export{b as NAMESPACE_GONE_MS,a as PROJECT_KINDS,c as isOurNamespace,d as teardownProject};
