"""Imported by a run's fork server (:func:`helpers.run.runner.fork_server_modules`): what
every kernel imports as it starts (:data:`helpers.run.zygote.KERNEL_START_MODULES`),
imported once, quietly, so the kernel template forked from the server and the kernels
forked from the template find it imported."""

from __future__ import annotations

from helpers.run.zygote import import_kernel_start

import_kernel_start()
