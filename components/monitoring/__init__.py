"""Monitoring (`binderhub:monitoring`): Prometheus and Grafana beside the hub, one component each.

`Monitoring` (monitoring.py) owns their namespace and the hub's metrics token; `Prometheus`
(prometheus.py) and `Grafana` (grafana.py) install their charts in it. Values are built in
components/values/monitoring.py; the dashboards Grafana provisions are in dashboards/.
"""

from components.monitoring.grafana import Grafana, GrafanaArgs
from components.monitoring.monitoring import Monitoring, MonitoringArgs
from components.monitoring.prometheus import Prometheus, PrometheusArgs

__all__ = ["Grafana", "GrafanaArgs", "Monitoring", "MonitoringArgs", "Prometheus", "PrometheusArgs"]
