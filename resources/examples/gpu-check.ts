/**
 * GPU check on a machine with an NVIDIA GPU: the local node finds its GPUs through nvidia-smi,
 * then CUDA work runs as Orrery tasks on them:
 *   1. a command task compiles a CUDA C++ kernel with nvcc and runs it (numGpus: 1, accelerator);
 *   2. a command task runs a PyTorch matrix product on the GPU and checks it against float64;
 *   3. two function tasks of numGpus: 0.5 share one GPU at the same time;
 *   4. a task asking for more GPUs than the machine has fails as unschedulable.
 * Prints one JSON line per check and exits non-zero if any check fails.
 *
 *   npm run example:gpu
 */
import { init, shutdown, nodes, clusterResources, command, remote, get, type CommandResult } from 'orrery-compute';

const SAXPY = `#include <cstdio>
#include <cstdlib>
#include <cmath>
__global__ void saxpy(int n, float a, const float* x, float* y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}
#define CK(e) do { cudaError_t r = (e); if (r != cudaSuccess) { fprintf(stderr, "%s: %s\\n", #e, cudaGetErrorString(r)); return 1; } } while (0)
int main() {
  const int n = 1 << 24;
  float *x = (float*)malloc(n * 4), *y = (float*)malloc(n * 4), *dx, *dy;
  for (int i = 0; i < n; i++) { x[i] = (float)(i % 1000) / 7.0f; y[i] = (float)(i % 313); }
  CK(cudaMalloc(&dx, n * 4)); CK(cudaMalloc(&dy, n * 4));
  CK(cudaMemcpy(dx, x, n * 4, cudaMemcpyHostToDevice)); CK(cudaMemcpy(dy, y, n * 4, cudaMemcpyHostToDevice));
  saxpy<<<(n + 255) / 256, 256>>>(n, 3.0f, dx, dy);
  CK(cudaGetLastError()); CK(cudaDeviceSynchronize());
  CK(cudaMemcpy(y, dy, n * 4, cudaMemcpyDeviceToHost));
  double maxErr = 0;
  for (int i = 0; i < n; i++) maxErr = fmax(maxErr, fabs(y[i] - (3.0 * ((i % 1000) / 7.0f) + (i % 313))));
  cudaDeviceProp p; CK(cudaGetDeviceProperties(&p, 0));
  printf("{\\"device\\":\\"%s\\",\\"n\\":%d,\\"maxErr\\":%g}\\n", p.name, n, maxErr);
  return maxErr < 1e-3 ? 0 : 3;
}
`;

const TORCH = `
import json, os, time, torch
assert torch.cuda.is_available(), 'torch sees no GPU'
n = 4096
g = torch.Generator().manual_seed(7)
a = torch.randn(n, n, generator=g, dtype=torch.float64)
b = torch.randn(n, n, generator=g, dtype=torch.float64)
ref = a @ b
torch.backends.cuda.matmul.allow_tf32 = False
out = (a.float().cuda() @ b.float().cuda()).double().cpu()
rel = float((out - ref).norm() / ref.norm())
x = torch.randn(8192, 8192, device='cuda', dtype=torch.bfloat16)
for _ in range(3): x @ x
torch.cuda.synchronize()
s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
s.record()
for _ in range(10): x @ x
e.record(); torch.cuda.synchronize()
tflops = 10 * 2 * 8192**3 / (s.elapsed_time(e) / 1e3) / 1e12
print(json.dumps({'visible': os.environ.get('CUDA_VISIBLE_DEVICES'), 'device': torch.cuda.get_device_name(0), 'fp32RelErr': rel, 'bf16Tflops': round(tflops, 1)}))
`;

type Check = { check: string; ok: boolean; [k: string]: unknown };
const results: Check[] = [];
function report(c: Check): void {
  results.push(c);
  console.log(JSON.stringify(c));
}

function lastJson(r: CommandResult): Record<string, unknown> {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

await init({ infeasibleGraceMs: 2_000 });
try {
  const local = (await nodes())[0] as { nodeId: string; labels: Record<string, string> };
  const gpus = (await clusterResources()).GPU ?? 0;
  const accelerator = local.labels.accelerator;
  report({ check: 'detect', ok: gpus >= 1 && typeof accelerator === 'string', gpus, accelerator, node: local.nodeId });

  const nvcc = command({ numGpus: 1, accelerator, outputs: [] });
  try {
    const r = await get(
      nvcc.remote({ argv: ['sh', '-c', 'nvcc -O2 -o saxpy saxpy.cu && ./saxpy'], inputs: { 'saxpy.cu': SAXPY } }),
    );
    const j = lastJson(r);
    report({ check: 'cuda-command-nvcc', ok: r.exitCode === 0 && Number(j.maxErr) < 1e-3, ...j });
  } catch (e) {
    report({ check: 'cuda-command-nvcc', ok: false, error: String(e) });
  }

  try {
    const r = await get(command({ numGpus: 1 }).remote({ argv: ['python3', '-c', TORCH] }));
    const j = lastJson(r);
    report({ check: 'cuda-command-torch', ok: j.visible === '0' && Number(j.fp32RelErr) < 1e-5, ...j });
  } catch (e) {
    report({ check: 'cuda-command-torch', ok: false, error: String(e) });
  }

  const half = remote({ numGpus: 0.5 }, async (ms: number) => {
    const start = Date.now();
    await new Promise((r) => setTimeout(r, ms));
    return { visible: process.env.CUDA_VISIBLE_DEVICES, start, end: Date.now() };
  });
  const [a, b] = await get([half.remote(1_500), half.remote(1_500)]);
  const overlap = a!.start < b!.end && b!.start < a!.end;
  report({
    check: 'fractional-gpu',
    ok: overlap && a!.visible === '0' && b!.visible === '0',
    a: a!.visible,
    b: b!.visible,
    overlap,
  });

  const tooMany = remote({ numGpus: gpus + 1 }, () => 1);
  try {
    await get(tooMany.remote());
    report({ check: 'infeasible', ok: false, error: 'ran with more GPUs than the machine has' });
  } catch (e) {
    report({
      check: 'infeasible',
      ok: (e as Error).name === 'TaskUnschedulableError',
      error: (e as Error).message.split('\n')[0],
    });
  }
} finally {
  await shutdown();
}
const failed = results.filter((r) => !r.ok).map((r) => r.check);
console.log(
  failed.length === 0 ? `gpu-check: all ${results.length} checks passed` : `gpu-check: FAILED ${failed.join(', ')}`,
);
process.exitCode = failed.length === 0 ? 0 : 1;
