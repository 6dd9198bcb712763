import { naiveSharp } from './bench/workloads.js';
const files = process.argv.slice(2);
const cpu0 = process.cpuUsage();
const r = await naiveSharp(files, 2);
const cpu = process.cpuUsage(cpu0);
console.log('naive wall ms/img', ((r.seconds * 1000) / r.images).toFixed(1), 'cpu user', (cpu.user / 1000 / r.images).toFixed(1), 'sys', (cpu.system / 1000 / r.images).toFixed(1));
