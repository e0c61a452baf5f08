"""Training on several processes (GPUs or machines) under PyTorch's own launcher, torchrun.

    torchrun --nproc_per_node=4 -m seqprep train DATA RUN ...          # 4 GPUs on one machine
    torchrun --nnodes=2 --node_rank=R --master_addr=HOST --master_port=29500 \\
             --nproc_per_node=8 -m seqprep train DATA RUN ...          # on each of 2 machines

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; seqprep then joins the process group (NCCL on
CUDA, gloo on CPU) and wraps the model in DistributedDataParallel. Every process reads the
whole dataset and takes every WORLD_SIZE-th batch of the epoch's (seeded, shared) order, so
one step sees WORLD_SIZE batches and their gradients are averaged: WORLD_SIZE processes with
--batch-size B train like one with batches of WORLD_SIZE x B. Validation is split between
the processes too; the epoch's figures are summed over them; process 0 alone writes RUN.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.size > 1


def launched() -> World:
    """The process's place as torchrun's environment gives it (one process without it)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    return World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))


def join(world: World, device: torch.device) -> torch.device:
    """Join the process group; returns this process's device (its own GPU on CUDA)."""
    if not world.active:
        return device
    if device.type == "cuda":
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return device


def leave(world: World, *, done: bool) -> None:
    """Leave the group; when training ``done``, after every process has got there (process 0
    writes RUN meanwhile)."""
    if world.active and dist.is_initialized():
        if done:
            dist.barrier()
        dist.destroy_process_group()


def share(batches: list, world: World) -> list:
    """This process's batches: every ``size``-th, from its rank on; each process gets the same
    count (the last ones wrap around to the start), so every step has a partner everywhere."""
    if not world.active or not batches:
        return batches
    steps = -(-len(batches) // world.size)
    return [batches[(world.rank + k * world.size) % len(batches)] for k in range(steps)]


def reduced(values: list[float], world: World, device: torch.device, *, op: str = "sum") -> list[float]:
    """``values`` summed (or their maximum, ``op="max"``) over every process; the same list everywhere."""
    if not world.active:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX if op == "max" else dist.ReduceOp.SUM)
    return t.tolist()


def wrap(module: nn.Module, world: World, device: torch.device) -> nn.Module:
    if not world.active:
        return module
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)
