"""Figures of what the run cost: memory of each service, CPU other jobs took meanwhile."""

from bench.figures import Figure


def memory_figures(memory: dict[str, dict[str, dict[str, float]]]) -> list[Figure]:
    """RSS after load per service (master and workers summed), with idle and PSS beside it."""
    figures = []
    for name, after in memory["after_load"].items():
        idle = memory["idle"][name]
        figures.append(
            Figure(
                f"memory: {name} ({after['processes']} processes)",
                after["rss_mb"],
                " MiB",
                "report",
                None,
                f"RSS idle {idle['rss_mb']:.0f} MiB, after load {after['rss_mb']:.0f} MiB; "
                f"PSS idle {idle['pss_mb']:.0f} MiB, after load {after['pss_mb']:.0f} MiB",
            )
        )
    return figures


def other_percent(phases: list[dict], cpus: int) -> float:
    """The share (%) of the machine's CPU capacity other jobs took during the run."""
    other = sum(phase["other_cpu_s"] for phase in phases)
    return 100 * other / (cpus * sum(phase["seconds"] for phase in phases))


def cpu_figure(phases: list[dict], cpus: int) -> Figure:
    other = sum(phase["other_cpu_s"] for phase in phases)
    seconds = sum(phase["seconds"] for phase in phases)
    noisiest = max(phases, key=lambda phase: phase["other_share"])
    return Figure(
        "CPU taken by other processes during the run",
        other_percent(phases, cpus),
        " %",
        "report",
        None,
        f"{other:.1f} CPU-s of {cpus} CPUs x {seconds:.0f} s; most in "
        f"{noisiest['phase']}: {100 * noisiest['other_share']:.0f} %",
    )
