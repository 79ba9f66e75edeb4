#!/usr/bin/env python3
"""Flotilla's MCP server from the real Python MCP client SDK (PyPI's `mcp`).

    mcp_client_test.py stdio FLOTILLA REPOSITORY
    mcp_client_test.py http URL TOKEN
    mcp_client_test.py read FLOTILLA REPOSITORY URI...

Lists the tools, starts a scripted mission, polls it to completion, reads its checklist, log and an attempt's diff as
resources, and checks that a failing tool call comes back as a tool result with isError and Flotilla's message (an
unknown tool or resource as an MCP error). Prints one line per check; exits 1 on the first failure. Polling is bounded
by a time limit. `read` only reads the resources named and prints them as one JSON object, by URI, each its text or
{"error": message}.
"""
import asyncio
import json
import sys
import time
import urllib.error
import urllib.request

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

# The SDK's 1.x and 2.x name the protocol error and the HTTP transport differently; both are tested.
try:
    from mcp.shared.exceptions import McpError

    def message_of(error):
        return error.error.message
except ImportError:
    from mcp.shared.exceptions import MCPError as McpError

    def message_of(error):
        return error.message

LIMIT = 90


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok - {what}", flush=True)


def text(result):
    return "".join(getattr(item, "text", "") for item in result.content)


def field(value, camel, snake):
    """A field of an SDK object: 1.x names it in camelCase, 2.x in snake_case."""
    return getattr(value, camel, None) if hasattr(value, camel) else getattr(value, snake, None)


def is_error(result):
    return bool(field(result, "isError", "is_error"))


async def exercise(session):
    await session.initialize()
    tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    expected = {"plan", "start_mission", "mission_status", "list_missions", "mission_history", "mission_log",
                "stop_mission", "resume_mission", "approve_mission", "reject_mission", "check_mission",
                "step_mission"}
    check(expected <= set(tools), f"the tools are listed ({sorted(tools)})")
    check(all(field(tool, "inputSchema", "input_schema").get("type") == "object" for tool in tools.values()),
          "each tool has an input schema")
    check("verify" in field(tools["start_mission"], "inputSchema", "input_schema").get("properties", {}),
          "start_mission's schema is the mission request's")

    started = await session.call_tool("start_mission", {"goal": "From MCP"})
    check(not is_error(started), f"start_mission answers ({text(started)[:300]})")
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
    check(not is_error(checked), f"check_mission answers ({text(checked)[:300]})")
    checked = json.loads(text(checked))
    check(checked["passed"] and checked["commit"] == status["target_head"],
          f"the finished mission's target checks again ({checked['commit']}, passed {checked['passed']})")
    await refused(session, "check_mission", {"id": mission, "groups": ["no_such_group"]}, "no such group",
                  "an unknown group is refused")
    for name, arguments, expected in [
        ("step_mission", {"id": mission, "attempts": 1}, "cannot go on"),
        ("stop_mission", {"id": mission, "end": "complete"}, "needs a reason"),
        ("stop_mission", {"id": mission, "end": "terminate"}, "cannot go on"),
    ]:
        await refused(session, name, arguments, expected, f"{name} {arguments}")

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
        await refused(session, "mission_status", arguments, message, f"a bad call ({arguments})")
    # Rejecting needs a reason, and something waiting: the same messages as the CLI's.
    for arguments, message in (({"id": mission}, "reason is required"),
                               ({"id": mission, "reason": "no"}, "waits for approval")):
        await refused(session, "reject_mission", arguments, message, f"reject_mission {arguments}")
    # An unknown tool is still a protocol error.
    try:
        result = await session.call_tool("no_such_tool", {})
        check(False, f"an unknown tool is refused ({text(result)[:200]})")
    except McpError as error:
        check("no tool no_such_tool" in str(message_of(error)),
              f"an unknown tool is an MCP error: {message_of(error)}")
    try:
        await session.read_resource("flotilla://nowhere")
        check(False, "an unknown resource is refused")
    except McpError as error:
        check("no resource" in message_of(error), f"an unknown resource is an MCP error: {message_of(error)}")


async def refused(session, name, arguments, expected, what):
    """A tool call that fails answers with isError and Flotilla's message (MCP 2025-11-25, SEP-1303), not a
    protocol error."""
    try:
        result = await session.call_tool(name, arguments)
    except McpError as error:
        check(False, f"{what}: a protocol error, not a tool result: {message_of(error)}")
        return
    check(is_error(result) and expected in text(result),
          f"{what} is refused as a tool result: {text(result)[:300]}")


async def read_resources(session, uris):
    await session.initialize()
    found = {}
    for uri in uris:
        try:
            result = await session.read_resource(uri)
            found[uri] = "".join(getattr(item, "text", "") for item in result.contents)
        except McpError as error:
            found[uri] = {"error": message_of(error)}
    print(json.dumps(found), flush=True)


async def main():
    mode = sys.argv[1]
    if mode == "read":
        parameters = StdioServerParameters(command=sys.argv[2], args=["mcp", "--repo", sys.argv[3]])
        async with stdio_client(parameters) as (read, write):
            async with ClientSession(read, write) as session:
                await read_resources(session, sys.argv[4:])
    elif mode == "stdio":
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
        headers = {"Authorization": f"Bearer {token}"}
        try:
            from mcp.client.streamable_http import streamablehttp_client
        except ImportError:
            import httpx2
            from mcp.client.streamable_http import streamable_http_client
            async with httpx2.AsyncClient(headers=headers, timeout=60) as client:
                async with streamable_http_client(url, http_client=client) as (read, write):
                    async with ClientSession(read, write) as session:
                        await exercise(session)
            return
        async with streamablehttp_client(url, headers=headers) as (read, write, _):
            async with ClientSession(read, write) as session:
                await exercise(session)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except AssertionError as failure:
        print(f"not ok - {failure}", flush=True)
        sys.exit(1)
