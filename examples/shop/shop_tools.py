"""A small shop's tools, for trying ``foreplan tune`` on a toolkit foreplan was not built
around: customers, orders, shipping quotes and refunds, over a fixed in-memory table."""

from __future__ import annotations

from foreplan import tool

CUSTOMERS = {
    "ann lee": {"customer_id": "C-17", "email": "ann.lee@example.com", "city": "Lyon"},
    "bo chen": {"customer_id": "C-23", "email": "bo.chen@example.com", "city": "Porto"},
    "cara diaz": {"customer_id": "C-31", "email": "cara.diaz@example.com", "city": "Graz"},
}
ORDERS = {
    "C-17": [{"order_id": "A-1001", "item": "kettle", "total": 39.9, "status": "shipped"},
             {"order_id": "A-1007", "item": "desk lamp", "total": 24.5, "status": "processing"}],
    "C-23": [{"order_id": "A-1012", "item": "backpack", "total": 59.0, "status": "delivered"}],
    "C-31": [{"order_id": "A-1020", "item": "office chair", "total": 189.0, "status": "shipped"}],
}
CARRIERS = {"shipped": ("ParcelGo", "2 days"), "processing": ("not yet assigned", "5 days"), "delivered": ("ParcelGo", "arrived")}
ZONES = {"lyon": 1, "porto": 2, "graz": 2}


@tool
def find_customer(name: str) -> dict:
    """Find a customer by full name.

    Args:
        name: the customer's full name, e.g. Ann Lee.

    Returns:
        customer_id, email, city.
    """
    found = CUSTOMERS.get(" ".join(name.lower().split()))
    if found is None:
        raise ValueError(f"no customer named {name!r}")
    return dict(found)


@tool
def list_orders(customer_id: str) -> list:
    """List a customer's orders, newest last.

    Args:
        customer_id: the customer's id, e.g. C-17, from find_customer.

    Returns:
        A list of orders, each with order_id, item, total and status.
    """
    if customer_id not in ORDERS:
        raise ValueError(f"no customer with id {customer_id!r}")
    return [dict(o) for o in ORDERS[customer_id]]


@tool
def order_status(order_id: str) -> dict:
    """Where an order is: its status, carrier and expected arrival.

    Args:
        order_id: the order's id, e.g. A-1001.

    Returns:
        status, carrier, eta.
    """
    for orders in ORDERS.values():
        for order in orders:
            if order["order_id"] == order_id.strip():
                carrier, eta = CARRIERS[order["status"]]
                return {"status": order["status"], "carrier": carrier, "eta": eta}
    raise ValueError(f"no order {order_id!r}")


@tool
def shipping_quote(city: str, weight_kg: float) -> dict:
    """Price and days to ship a parcel from the warehouse to a city.

    Args:
        city: the destination city, e.g. Porto.
        weight_kg: the parcel's weight in kilograms.

    Returns:
        price (euros), days.
    """
    zone = ZONES.get(city.strip().lower(), 3)
    return {"price": round(4.5 * zone + 1.2 * weight_kg, 2), "days": 1 + zone}


@tool(side_effects=True, sensitive=["order_id"])
def issue_refund(order_id: str, amount: float) -> dict:
    """Refund money for an order to the customer's card.

    Args:
        order_id: the order's id, e.g. A-1001.
        amount: euros to refund, at most the order's total.

    Returns:
        refund_id, status.
    """
    return {"refund_id": f"R-{order_id.strip()}", "status": f"refunded {amount:.2f} EUR"}
