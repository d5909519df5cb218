"""Tools whose ids only another tool returns (a location's geoId, an airport's skyId), as
real travel APIs have them: shared by the validator's and tool retrieval's tests. Import
them as ``from lookup_tools import ...`` (tests/ is on sys.path)."""

from __future__ import annotations

from typing import TypedDict

from foreplan.tools.tool import tool


class Location(TypedDict):
    geoId: str
    name: str


class Airport(TypedDict):
    skyId: str
    entityId: str


@tool
def search_location(query: str) -> Location:
    """Find a city or region.

    Args:
        query: the place's name.
    """
    return {"geoId": "g187147", "name": query}


@tool
def search_airport(query: str) -> Airport:
    """Find an airport.

    Args:
        query: a city or airport name.
    """
    return {"skyId": "CDG", "entityId": "95565050"}


@tool
def search_hotels(geoId: str, checkin: str) -> list:
    """Hotels in a place.

    Args:
        geoId: the place's id.
        checkin: the first night, YYYY-MM-DD.
    """
    return []


@tool
def search_flights(originSkyId: str, destinationSkyId: str, date: str) -> list:
    """Flights between two airports.

    Args:
        originSkyId: the departure airport's id.
        destinationSkyId: the arrival airport's id.
        date: the day, YYYY-MM-DD.
    """
    return []
