import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-RGUZZRUI.js";import"./chunk-X2TYTLBZ.js";import"./chunk-N6AXPSLZ.js";import"./chunk-VSZ5SVKH.js";import"./chunk-6RXN7FII.js";export{b as NAMESPACE_GONE_MS,a as PROJECT_KINDS,c as isOurNamespace,d as teardownProject};
