/**
 * CPU and memory of this process for the dashboard's System page. CPU is the share of one core used
 * since the previous reading (so it is a rate, not the cumulative seconds Node reports).
 */
export function processUsage(): () => Record<string, number> {
  let prev = { cpu: process.cpuUsage(), at: process.hrtime.bigint() };
  return () => {
    const cpu = process.cpuUsage();
    const at = process.hrtime.bigint();
    const wallUs = Number(at - prev.at) / 1000;
    const usedUs = cpu.user - prev.cpu.user + (cpu.system - prev.cpu.system);
    prev = { cpu, at };
    const mem = process.memoryUsage();
    return {
      cpuPercent: wallUs > 0 ? Math.round((1000 * usedUs) / wallUs) / 10 : 0,
      rssMb: Math.round(mem.rss / 1048576),
      heapMb: Math.round(mem.heapUsed / 1048576),
    };
  };
}
