"""RunDetails (was `azureml.widgets`): a sweep's report in Jupyter, a text summary elsewhere."""

from __future__ import annotations

from typing import Any

from orchestrator.hyperdrive.runs import Run


class RunDetails:
    """`RunDetails(run).show()` shows sweepq's report of the run's sweep (Sweep.show(): progress, charts, trials
    and decisions); for a child or single run, its sweep's. Outside IPython it prints a short summary."""

    def __init__(self, run_instance: Run) -> None:
        self.run_instance = run_instance

    def show(self) -> None:
        view = self.run_instance._sweep.show()
        try:
            from IPython import get_ipython  # type: ignore[import-not-found,unused-ignore]
            from IPython.display import display  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            get_ipython = None
        if get_ipython is not None and get_ipython() is not None:
            display(view)
            return
        print(self.summary())

    def summary(self) -> str:
        """One line for the run, then one per child run: id, status and the primary metric's last value."""
        run = self.run_instance
        sweep = run._sweep
        status = sweep.status()
        metric = status["metric"]["name"]
        reason = f" ({status['reason']})" if status.get("reason") else ""
        lines = [f"{run.id}: {run.get_status()}{reason}"]
        for trial in sweep.trials():
            value = (trial.get("final_metrics") or {}).get(metric, trial.get("value"))
            lines.append(f"  {trial['id']}: {trial['status']}  {metric}={value}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return str(self.run_instance._sweep.show()._repr_html_())

    def get_widget_data(self, widget_settings: Any = None) -> dict[str, Any]:
        return {"status": self.run_instance.get_status(), "summary": self.summary()}
