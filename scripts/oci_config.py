#!/usr/bin/env python3
"""Writes an OCI runtime config for the runtime lanes (scripts/runtime-test.sh on this
machine, scripts/vm-test.sh for the real-kernel lane's v2 boot), from runc's own default
spec (`runc spec`) and a list of settings:

    oci_config.py SPEC OUT CGROUPS_PATH [SETTING...]

SETTING: quota=US (per 100000 us), cpus=LIST, shares=N, cgroupns (a private cgroup
namespace), nocgroupmount (no cgroupfs at /sys/fs/cgroup), seccomp (sched_getaffinity
answers EPERM), args=A,B,... (the process), env=NAME=VALUE, cwd=DIR, writable (a read-write root). Any
other setting is an error: a mistyped one must not leave a case running unconfigured.
"""
import json
import sys


def main(spec, out, cgroups_path, settings):
    with open(spec) as f:
        config = json.load(f)
    process, linux = config["process"], config["linux"]
    process["terminal"] = False
    process["args"] = ["/kumo/probe-all"]
    process["env"] = ["PATH=/usr/bin:/bin"]
    config["root"]["readonly"] = True
    linux["cgroupsPath"] = cgroups_path
    cpu = linux.setdefault("resources", {}).setdefault("cpu", {})
    for setting in settings:
        name, _, value = setting.partition("=")
        if name == "quota":
            cpu.update(quota=int(value), period=100000)
        elif name == "cpus":
            cpu["cpus"] = value
        elif name == "shares":
            cpu["shares"] = int(value)
        elif name == "cgroupns":
            linux["namespaces"].append({"type": "cgroup"})
        elif name == "nocgroupmount":
            config["mounts"] = [m for m in config["mounts"] if m["destination"] != "/sys/fs/cgroup"]
        elif name == "seccomp":
            linux["seccomp"] = {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                    {"names": ["sched_getaffinity"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
                ],
            }
        elif name == "args":
            process["args"] = value.split(",")
        elif name == "env":
            process["env"].append(value)
        elif name == "cwd":
            process["cwd"] = value
        elif name == "writable":
            config["root"]["readonly"] = False
        else:
            sys.exit(f"oci_config.py: unknown setting {setting!r}")
    with open(out, "w") as f:
        json.dump(config, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
