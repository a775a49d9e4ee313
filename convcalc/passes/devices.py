"""The bundled devices of `--device NAME`: published peak FLOP/s per element type and memory bandwidth, each with
its source (benchmarks/data/devices_sources.md gives the derivations in full).

Figures are dense (NVIDIA prints tensor-core figures "with sparsity", twice these). A figure computed here from
published clocks and unit widths, not published as such, is listed in the device's ``derived`` (and `convcalc
devices` marks it). A datasheet device has no efficiencies and no per-node overhead: its estimates are the plain
roofline, a lower bound on the time. `convcalc calibrate` measures a machine instead.
"""

from __future__ import annotations

from convcalc.core.errors import nearest
from convcalc.passes.profile import DeviceProfile

T, G = 1e12, 1e9

NVIDIA_DENSE = "dense figures (the datasheet's sparse ones are twice these); "

DEVICES: dict[str, DeviceProfile] = {
    device.name: device
    for device in (
        DeviceProfile(
            name="a100",
            description="NVIDIA A100 SXM4 40 GB",
            peak_flops={"float32": 19.5 * T, "float16": 312 * T, "bfloat16": 312 * T, "int8": 624 * T},
            vector_flops={"float32": 19.5 * T},
            bandwidth=1555 * G,
            source="NVIDIA A100 Tensor Core GPU datasheet (nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf)",
            note=NVIDIA_DENSE + "float32 on the CUDA cores; TF32 tensor cores run 156 TFLOP/s (PyTorch uses them for "
            "convs by default: --peak-flops 156e12); 1,555 GB/s HBM2",
        ),
        DeviceProfile(
            name="h100",
            description="NVIDIA H100 SXM5 80 GB",
            peak_flops={"float32": 67 * T, "float16": 989.4 * T, "bfloat16": 989.4 * T, "int8": 1979 * T},
            vector_flops={"float32": 67 * T},
            bandwidth=3350 * G,
            source="NVIDIA H100 Tensor Core GPU datasheet (figures with sparsity, halved)",
            note=NVIDIA_DENSE + "float32 on the CUDA cores; TF32 tensor cores 494.7 TFLOP/s; 3,350 GB/s HBM3",
        ),
        DeviceProfile(
            name="t4",
            description="NVIDIA T4",
            peak_flops={"float32": 8.1 * T, "float16": 65 * T, "int8": 130 * T},
            vector_flops={"float32": 8.1 * T},
            bandwidth=320 * G,
            source="NVIDIA T4 Tensor Core GPU datasheet",
            note="float16 mixed precision and int8 on the tensor cores; no bfloat16; 320 GB/s GDDR6 (256-bit bus x "
            "10 Gbps / 8)",
        ),
        DeviceProfile(
            name="jetson-orin-nano",
            description="NVIDIA Jetson Orin Nano 8 GB (15 W, original clocks)",
            peak_flops={"float32": 1.28 * T, "float16": 10 * T, "int8": 20 * T},
            vector_flops={"float32": 1.28 * T},
            bandwidth=68 * G,
            source="NVIDIA Jetson Orin Nano Series data sheet (int8 20 TOP/s dense, 1,024 CUDA cores, 32 tensor "
            "cores, GPU at 625 MHz, 128-bit LPDDR5 at 68 GB/s)",
            derived=("peak_flops.float32", "peak_flops.float16", "vector_flops.float32"),
            note="float32: 1,024 cores x 2 (FMA) x 0.625 GHz; float16: Ampere tensor cores at half their int8 rate, "
            "20 / 2. The 25 W 'Super' firmware is faster (67 TOP/s sparse int8, 102 GB/s)",
        ),
        DeviceProfile(
            name="raspberry-pi-5",
            description="Raspberry Pi 5 CPU (BCM2712, 4 x Cortex-A76 at 2.4 GHz)",
            peak_flops={"float32": 153.6 * G, "float16": 307.2 * G, "int8": 614.4 * G},
            bandwidth=17.1 * G,
            source="Raspberry Pi 5 announcement (4 cores at 2.4 GHz, 32-bit LPDDR4X-4267); Arm Cortex-A76 Software "
            "Optimization Guide (two 128-bit ASIMD/FP pipelines)",
            derived=("peak_flops.float32", "peak_flops.float16", "peak_flops.int8", "bandwidth"),
            note="float32: 2 pipes x 4 lanes x 2 (FMLA) x 4 cores x 2.4 GHz; float16 8 lanes; int8 SDOT 16 MACs per "
            "instruction x 2 pipes; assumes both pipes issue FMLA and SDOT every cycle (not checked against the "
            "guide's tables). bandwidth: 4 bytes x 4,267 MT/s",
        ),
        DeviceProfile(
            name="apple-m2-cpu",
            description="Apple M2 CPU (4 performance cores at 3.49 GHz)",
            peak_flops={"float32": 447 * G, "float16": 894 * G, "int8": 1790 * G},
            bandwidth=100 * G,
            source="Apple M2 press release, 2022-06-06 (100 GB/s unified memory); 3.49 GHz performance cores",
            derived=("peak_flops.float32", "peak_flops.float16", "peak_flops.int8"),
            note="4 FP/SIMD FMA pipes per performance core (a third-party measurement, not Apple's) x 4 lanes x 2 x "
            "3.49 GHz x 4 cores; float16 8 lanes; int8 SDOT. Efficiency cores and the AMX unit left out; the "
            "bandwidth is shared with the GPU",
        ),
        DeviceProfile(
            name="apple-m2-gpu",
            description="Apple M2 GPU (10 cores)",
            peak_flops={"float32": 3.58 * T},
            bandwidth=100 * G,
            source="Apple M2 press release, 2022-06-06 (10-core GPU, 100 GB/s unified memory)",
            derived=("peak_flops.float32",),
            note="10 cores x 128 FP32 ALUs x 2 (FMA) x 1.398 GHz (ALUs per core and clock are third-party "
            "measurements); no published float16 or int8 rate (the Neural Engine's 15.8 TOP/s is not the GPU's)",
        ),
        DeviceProfile(
            name="x86-avx2-core",
            description="one x86 core with AVX2 and FMA (reference: Intel Core i7-6700K, Skylake, 4.0 GHz)",
            peak_flops={"float32": 128 * G, "float16": 128 * G, "int8": 512 * G},
            bandwidth=34.1 * G,
            source="Intel 64 and IA-32 Architectures Optimization Reference Manual (two 256-bit FMA units per "
            "Skylake core); i7-6700K: 4.0 GHz base, dual-channel DDR4-2133",
            derived=("peak_flops.float32", "peak_flops.float16", "peak_flops.int8", "bandwidth"),
            note="float32: 2 FMA units x 8 lanes x 2 x 4.0 GHz; float16 computes at the float32 rate (AVX2 only "
            "converts it); int8: VPMADDUBSW on both ports, an upper bound (about half in practice); bandwidth: 2 "
            "channels x 8 bytes x 2,133 MT/s, the whole chip's (one core reaches less)",
        ),
        DeviceProfile(
            name="stm32h7",
            description="STM32H743 microcontroller (Cortex-M7 at 480 MHz), tensors in AXI SRAM",
            peak_flops={"float32": 0.96 * G, "int8": 1.92 * G},
            bandwidth=1.92 * G,
            source="STM32H743 datasheet DS12110 (480 MHz Cortex-M7 with FPU and DSP instructions, 128 KB DTCM, "
            "512 KB AXI SRAM); Arm Cortex-M7 Technical Reference Manual; RM0433 (bus architecture)",
            derived=("peak_flops.float32", "peak_flops.int8", "bandwidth"),
            note="float32: one VFMA.F32 per cycle x 2 x 480 MHz; int8: SMLAD's two 16-bit MACs per cycle, an upper "
            "bound (CMSIS-NN widens int8 first); bandwidth: AXI SRAM, 64-bit bus at 240 MHz (DTCM: 3.84 GB/s, "
            "--bandwidth 3.84e9); figures not checked against the manuals",
        ),
    )
}
"""Every bundled device by its `--device` name."""


def bundled(name: str) -> DeviceProfile:
    """The bundled device of that name (any case); ValueError naming the nearest names and where the list is."""
    device = DEVICES.get(name.lower())
    if device is not None:
        return device
    hint = nearest(name.lower(), DEVICES)
    suggestion = f" ({hint})" if hint else ""
    raise ValueError(
        f"unknown device '{name}'{suggestion}; `convcalc devices` lists them: {', '.join(DEVICES)} (or give a "
        "profile FILE.json)"
    )
