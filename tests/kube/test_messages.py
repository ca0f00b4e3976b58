"""What the live gateway says when the cluster cannot be reached or its kubeconfig is wrong: what a person needs,
once per outage, never a stack trace."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.app import create_app
from tests.support.apiserver import ADMIN_TOKEN, KubeApiServer
from tests.support.gateway import live_config, serving
from tests.support.kubeconfig import write_kubeconfig
from tests.support.processes import ROOT
from tests.support.relay import Relay
from tests.support.waiting import eventually, free_port


def test_a_refused_connection_says_so_and_is_logged_once_per_outage(
    apiserver: KubeApiServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens there until the relay below does
    kubeconfig = write_kubeconfig(tmp_path / "kc", f"https://127.0.0.1:{port}", ADMIN_TOKEN, apiserver.ca_file)
    caplog.set_level(logging.WARNING)
    app = create_app(live_config(kubeconfig))
    with serving(app) as gateway:
        for _ in range(3):
            answer = gateway.get("/readyz")
            assert answer.status_code == 503
            assert answer.json()["message"].endswith(f"at https://127.0.0.1:{port}: connection refused")
        relay = Relay(apiserver.port, port=port)  # the API server, now at that address
        try:
            eventually(lambda: gateway.get("/readyz").status_code == 200, timeout=30, interval=0.1)
        finally:
            app.extensions["gateway"].close()  # before the relay: the API server going away then is an outage
            relay.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert [w for w in warnings if "connection refused" in w] == [
        f"cannot reach the API server at https://127.0.0.1:{port}: connection refused "
        "(counting failed requests until it answers again)"
    ]
    again = [m for m in (re.search(r"answers again, after (\d+) failed requests? in", w) for w in warnings) if m]
    assert len(again) == 1 and int(again[0][1]) >= 1  # the discovery's tries: /readyz tells the last one's error
    assert not [w for w in warnings if "Retrying" in w or "did not answer" in w]


def _serve(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "KUBERNETES_"))}
    return subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--kube", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=60, env={**environment, "HOME": str(home), **env},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--kubeconfig", "{tmp}/absent"], {}, "kubeconfig {tmp}/absent does not exist"),
        ([], {"KUBECONFIG": "{tmp}/absent"},
         "no kubeconfig ({tmp}/absent ($KUBECONFIG) does not exist) and not in a cluster "
         "(KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set)"),
        ([], {}, "no kubeconfig (~/.kube/config does not exist) and not in a cluster "
                 "(KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set)"),
        (["--kubeconfig", "{tmp}/kc", "--context", "prod"], {},
         "context 'prod' is not in kubeconfig {tmp}/kc: its contexts are test"),
    ],
)  # fmt: skip
def test_a_wrong_kubeconfig_or_context_is_one_line_saying_what_is_wrong(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    write_kubeconfig(tmp_path / "kc", "https://127.0.0.1:1", "token")
    tmp = str(tmp_path)
    result = _serve(*(a.format(tmp=tmp) for a in args), home=tmp_path, **{k: v.format(tmp=tmp) for k, v in env.items()})
    assert (result.returncode, result.stderr) == (2, f"kubevirt-gateway: error: {message.format(tmp=tmp)}\n")
