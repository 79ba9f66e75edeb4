#!/usr/bin/env python3
"""Flotilla's MCP server from the real Python MCP client SDK (PyPI's `mcp`).

    mcp_client_test.py stdio FLOTILLA REPOSITORY
    mcp_client_test.py http URL TOKEN

Lists the tools, starts a scripted mission, polls it to completion, reads its checklist, log and an attempt's diff as
resources, and checks that a bad call comes back as an MCP error with Flotilla's message. Prints one line per check;
exits 1 on the first failure. Polling is bounded by a time limit.
"""
import asyncio
import json
import sys
import time
import urllib.error
import urllib.request

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.exceptions import McpError

LIMIT = 90


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok - {what}", flush=True)


def text(result):
    return "".join(getattr(item, "text", "") for item in result.content)


async def exercise(session):
    await session.initialize()
    tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    expected = {"plan", "start_mission", "mission_status", "list_missions", "mission_history", "mission_log",
                "stop_mission", "resume_mission", "approve_mission", "reject_mission", "check_mission",
                "step_mission"}
    check(expected <= set(tools), f"the tools are listed ({sorted(tools)})")
    check(all(tool.inputSchema.get("type") == "object" for tool in tools.values()), "each tool has an input schema")
    check("verify" in tools["start_mission"].inputSchema.get("properties", {}),
          "start_mission's schema is the mission request's")

    started = await session.call_tool("start_mission", {"goal": "From MCP"})
    check(not started.isError, f"start_mission answers ({text(started)[:300]})")
    mission = json.loads(text(started))["id"]
    check(mission.startswith("m-"), f"and returns the mission id at once ({mission})")

    deadline = time.monotonic() + LIMIT
    while True:
        status = json.loads(text(await session.call_tool("mission_status", {"id": mission})))
        if status["state"] not in ("running", "created") or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)  # polling the mission, as a client would; bounded by LIMIT
    check(status["state"] == "completed", f"polled to completion ({status['state']})")
    check(status["groups_done"] == status["groups_total"] > 0, "every group landed")

    checked = await session.call_tool("check_mission", {"id": mission})
    check(not checked.isError, f"check_mission answers ({text(checked)[:300]})")
    checked = json.loads(text(checked))
    check(checked["passed"] and checked["commit"] == status["target_head"],
          f"the finished mission's target checks again ({checked['commit']}, passed {checked['passed']})")
    try:
        await session.call_tool("check_mission", {"id": mission, "groups": ["no_such_group"]})
        check(False, "check_mission refuses a group the mission lacks")
    except McpError as error:
        check("no such group" in str(error.error.message), f"an unknown group is refused: {error.error.message}")

    for name, arguments, expected in [
        ("step_mission", {"id": mission, "attempts": 1}, "cannot go on"),
        ("stop_mission", {"id": mission, "end": "complete"}, "needs a reason"),
        ("stop_mission", {"id": mission, "end": "terminate"}, "cannot go on"),
    ]:
        try:
            await session.call_tool(name, arguments)
            check(False, f"{name} refuses {arguments}")
        except McpError as error:
            check(expected in str(error.error.message), f"{name} {arguments}: {error.error.message}")

    listed = json.loads(text(await session.call_tool("list_missions", {"state": "completed"})))
    check(mission in [m["id"] for m in listed["missions"]], "list_missions shows it")
    history = json.loads(text(await session.call_tool("mission_history", {"id": mission})))
    check(all(a["outcome"] == "landed" for a in history["attempts"]), "mission_history has its attempts")
    log = text(await session.call_tool("mission_log", {"id": mission, "lines": 5}))
    check("mission.finished" in log and len(log.splitlines()) == 5, "mission_log gives the last lines")

    checklist = await session.read_resource(f"flotilla://missions/{mission}/checklist")
    check("## " in checklist.contents[0].text, "the checklist resource reads")
    diff = await session.read_resource(f"flotilla://missions/{mission}/attempts/1/diff")
    check("+++ b/" in diff.contents[0].text, "an attempt's diff resource reads")
    listed_resources = await session.list_resources()
    check(any(str(r.uri).endswith(f"{mission}/log") for r in listed_resources.resources), "resources are listed")

    for arguments, message in (({"id": "m-00000000"}, "no mission m-00000000"),
                               ({"id": "nope"}, "nope is not a mission id"),
                               ({"id": mission, "extra": 1}, "unknown argument extra")):
        try:
            await session.call_tool("mission_status", arguments)
            check(False, f"a bad call ({arguments}) is refused")
        except McpError as error:
            check(message in str(error.error.message), f"a bad call comes back as an MCP error: {error.error.message}")
    # Rejecting needs a reason, and something waiting: the same messages as the CLI's.
    for arguments, message in (({"id": mission}, "reason is required"),
                               ({"id": mission, "reason": "no"}, "waits for approval")):
        try:
            await session.call_tool("reject_mission", arguments)
            check(False, f"reject_mission {arguments} is refused")
        except McpError as error:
            check(message in str(error.error.message), f"reject_mission is refused: {error.error.message}")
    try:
        await session.read_resource("flotilla://nowhere")
        check(False, "an unknown resource is refused")
    except McpError as error:
        check("no resource" in error.error.message, f"an unknown resource is an MCP error: {error.error.message}")


async def main():
    mode = sys.argv[1]
    if mode == "stdio":
        parameters = StdioServerParameters(command=sys.argv[2], args=["mcp", "--repo", sys.argv[3]])
        async with stdio_client(parameters) as (read, write):
            async with ClientSession(read, write) as session:
                await exercise(session)
    else:
        url, token = sys.argv[2], sys.argv[3]
        request = urllib.request.Request(url, method="POST", data=json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"})
        try:
            urllib.request.urlopen(request, timeout=30)
            status = 200
        except urllib.error.HTTPError as error:
            status = error.code
        check(status == 401, f"without a token /mcp is refused ({status})")
        async with streamablehttp_client(url, headers={"Authorization": f"Bearer {token}"}) as (read, write, _):
            async with ClientSession(read, write) as session:
                await exercise(session)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except AssertionError as failure:
        print(f"not ok - {failure}", flush=True)
        sys.exit(1)
