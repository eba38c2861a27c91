import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
import{b as r}from"./chunk-T5BJCPZI.js";var E="30m",o="10m",T=1,m=r(o),s="a whole number of 0 or more";function u(t){let e=t.trim();return/^\d+$/.test(e)&&Number.isSafeInteger(Number(e))?Number(e):void 0}export{E as a,o as b,T as c,m as d,s as e,u as f};
