import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
import{a as r,b as i}from"./chunk-6RXN7FII.js";var o=i((p,e)=>{e.exports=r("node:http")});export{o as a};
