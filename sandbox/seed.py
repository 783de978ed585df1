"""The starting data of each sandbox system: one hardware catalogue, five customers, stock and carriers.

The systems agree on the facts (same SKUs, same stock) but spell them their own way, as real ones do:
the ERP says `HW-20620-C`, the OMS `hw-20620-c`. HW-61610-C is deliberately short in stock and
customer C-10977 has a low credit limit, so the demo and the golden tests can show backorders and holds.
"""
from __future__ import annotations

from sqlalchemy.engine import Connection

from sandbox import store

# (ERP item no, description, unit price per EA, weight kg per EA); the SKUs of the sample order.
CATALOGUE = [
    ("HW-20620-C", "Flange lock nut M8, galvanized", 2.60, 0.272),
    ("HW-61610-C", "Nylon insert carriage bolt M10, zinc", 7.28, 0.498),
    ("HW-13687-B", "Wedge anchor 1/2in, steel", 13.33, 0.780),
    ("HW-85172-D", "Phillips hex screw #8, zinc", 0.11, 0.010),
    ("HW-87462-D", "Butt hinge 3in, carriage finish", 2.99, 0.282),
    ("HW-33126-C", "Lag washer nut 3/8in, nylon", 3.75, 0.104),
    ("HW-66714-Z", "Plated hex nut 1/4in", 2.34, 0.374),
    ("HW-27737-C", "Flange bolt kit, stainless", 23.86, 3.151),
    ("HW-79599-B", "Coarse thread nut anchor", 0.44, 0.451),
    ("HW-55143-C", "Sleeve anchor 5/16in, zinc plated", 6.98, 0.041),
    ("HW-11884-A", "Stainless flange washer M12", 6.38, 0.264),
    ("HW-34189-D", "Stainless lock washer M10", 5.34, 0.141),
    ("HW-89561-B", "Galvanized fender washer 1/2in", 6.41, 0.403),
    ("HW-42614-B", "Concrete anchor assortment", 71.70, 0.664),
    ("HW-99671-A", "Hinge pin washer, galvanized", 0.09, 0.010),
    ("HW-21404-B", "Stainless hex carriage bolt M8", 6.38, 0.316),
    ("HW-31160-D", "Stainless hinge screw #10", 3.63, 0.059),
    ("HW-68783-A", "Galvanized anchor bolt set", 39.02, 8.797),
    ("HW-35623-C", "Drywall lag anchor, zinc", 0.34, 0.053),
    ("HW-57807-Z", "Drywall hex washer bolt", 1.51, 0.093),
    ("HW-23486-A", "Stainless phillips bolt M6", 6.44, 0.168),
    ("HW-30480-D", "Lag screw 1/4 x 3in, steel", 0.87, 0.029),
    ("HW-12784-B", "Sleeve anchor screw, stainless", 0.16, 0.010),
    ("HW-23930-Z", "Sleeve lock anchor 3/8in", 5.27, 0.367),
    ("HW-39875-D", "Nylon hex nut M5, zinc", 5.44, 0.046),
]
SHORT_SKU = "HW-61610-C"
UOMS = {"EA": 1, "DZ": 12, "BX": 25, "CS": 24, "PL": 960}  # PL = 40 cases
LOCATION = "MAIN"  # the ERP's location for the WMS warehouse DC1
WAREHOUSE = "DC1"
OMS_LOCATION_ID = 61001


def stock_of(index: int, sku: str) -> int:
    return 48 if sku == SHORT_SKU else 40_000 + 500 * index


# (ERP no, name, credit limit, open balance, OMS customer id, email, ship-to)
CUSTOMERS = [
    ("C-10442", "Acme Hardware Supply, Inc.", 250_000.0, 18_400.0, 7001, "purchasing@acme-hw.example",
     ("Acme Hardware DC East", "4100 Distribution Pkwy", "Columbus", "OH", "43217")),
    ("C-10518", "Bolt & Nut Depot", 120_000.0, 4_250.0, 7002, "orders@boltnut.example",
     ("Bolt & Nut Depot", "88 Harbor Rd", "Baltimore", "MD", "21230")),
    ("C-10631", "Northside Builders Co-op", 75_000.0, 0.0, 7003, "buying@northside.example",
     ("Northside Builders Yard 2", "2200 N Halsted St", "Chicago", "IL", "60614")),
    ("C-10745", "Harbor Fasteners LLC", 150_000.0, 31_900.0, 7004, "ap@harborfast.example",
     ("Harbor Fasteners", "17 Wharf St", "Portland", "ME", "04101")),
    ("C-10977", "Corner Hardware Store", 1_000.0, 650.0, 7005, "owner@cornerhw.example",
     ("Corner Hardware Store", "5 Main St", "Athens", "GA", "30601")),
]

# TMS carriers: tracking numbers are the prefix plus a per-carrier counter.
CARRIERS = [
    {"scac": "UPSN", "name": "UPS", "mode": "PARCEL", "trackingPrefix": "1Z", "maxPackageKg": 70,
     "services": [{"serviceCode": "GND", "name": "UPS Ground", "transitDays": 5, "base": 9.40, "perKg": 0.95},
                  {"serviceCode": "2DA", "name": "UPS 2nd Day Air", "transitDays": 2, "base": 21.10, "perKg": 2.40},
                  {"serviceCode": "NDA", "name": "UPS Next Day Air", "transitDays": 1, "base": 38.70, "perKg": 4.10}]},
    {"scac": "FDEG", "name": "FedEx Ground", "mode": "PARCEL", "trackingPrefix": "7712", "maxPackageKg": 68,
     "services": [{"serviceCode": "FDXG", "name": "FedEx Ground", "transitDays": 4, "base": 9.10, "perKg": 1.00},
                  {"serviceCode": "FDXH", "name": "FedEx Home Delivery", "transitDays": 5, "base": 10.25,
                   "perKg": 0.90}]},
    {"scac": "ODFL", "name": "Old Dominion Freight Line", "mode": "LTL", "trackingPrefix": "PRO",
     "minShipmentKg": 68, "services": [{"serviceCode": "LTL", "name": "OD Standard LTL", "transitDays": 3,
                                        "base": 145.00, "perKg": 0.32}]},
]


def seed(conn: Connection, system: str) -> None:
    {"erp": _erp, "oms": _oms, "wms": _wms, "tms": _tms, "netsuite": _netsuite, "edi": _edi}[system](conn)


def _erp(conn: Connection) -> None:
    for no, name, limit, balance, _oms_id, email, (ship_name, street, city, state, zip_code) in CUSTOMERS:
        conn.execute(store.erp_customers.insert().values(
            no=no, name=name, credit_limit=limit, balance=balance, blocked=False, version=1,
            doc={"email": email, "paymentTermsCode": "NET30", "currencyCode": "USD",
                 "address": {"name": ship_name, "address": street, "city": city, "county": state,
                             "postCode": zip_code, "countryRegionCode": "US"}}))
    for index, (no, description, price, weight) in enumerate(CATALOGUE):
        conn.execute(store.erp_items.insert().values(
            no=no, description=description, base_uom="EA", unit_price=price, uoms=dict(UOMS), weight_kg=weight,
            version=1))
        conn.execute(store.erp_item_stock.insert().values(
            item_no=no, location_code=LOCATION, inventory=stock_of(index, no), reserved=0))


def _oms(conn: Connection) -> None:
    for index, (no, description, price, weight) in enumerate(CATALOGUE):
        sku = no.lower()
        conn.execute(store.oms_products.insert().values(sku=sku, doc={
            "id": 8_100_000 + index, "title": description, "sku": sku, "price": f"{price:.2f}",
            "grams": round(weight * 1000), "status": "active", "vendor": "Crossdock Hardware"}))
        conn.execute(store.oms_inventory_levels.insert().values(
            sku=sku, location_id=OMS_LOCATION_ID, available=stock_of(index, no), updated_at=None))
    contacts = ["Dana Whitfield", "Luis Ortega", "Priya Raman", "Tom Becker", "Ann Corner"]
    for (erp_no, name, _limit, _balance, oms_id, email, (ship_name, street, city, state, zip_code)), contact in zip(
            CUSTOMERS, contacts):
        first, _, last = contact.partition(" ")
        conn.execute(store.oms_customers.insert().values(id=oms_id, doc={
            "id": oms_id, "email": email, "first_name": first, "last_name": last, "company": name,
            "tags": f"erp:{erp_no}", "default_address": {
                "name": ship_name, "address1": street, "city": city, "province_code": state, "zip": zip_code,
                "country_code": "US"}}))


def _wms(conn: Connection) -> None:
    conn.execute(store.wms_warehouses.insert().values(warehouse_id=WAREHOUSE, name="Columbus DC", cutoff_time="14:00"))
    for index, (no, description, _price, _weight) in enumerate(CATALOGUE):
        conn.execute(store.wms_inventory.insert().values(
            item_id=no, warehouse_id=WAREHOUSE, description=description, on_hand=stock_of(index, no), allocated=0,
            last_sequence=0))


def _tms(conn: Connection) -> None:
    for carrier in CARRIERS:
        conn.execute(store.tms_carriers.insert().values(code=carrier["scac"], doc=carrier))


def _netsuite(conn: Connection) -> None:
    """The second ERP knows the same customers and items (its externalIds are the first ERP's numbers), so the
    same orders release, hold and backorder the same way on either."""
    for index, (no, name, limit, balance, *_rest) in enumerate(CUSTOMERS):
        conn.execute(store.netsuite_customers.insert().values(
            id=101 + index, entity_id=no, company_name=name, credit_limit=limit, balance=balance))
    for index, (no, description, price, weight) in enumerate(CATALOGUE):
        conn.execute(store.netsuite_items.insert().values(
            id=501 + index, item_id=no, display_name=description, base_price=price, weight=weight,
            on_hand=stock_of(index, no), committed=0))


# The EDI partner's purchase orders (850, 004010), as its mailbox holds them to send: Acme orders by its own part
# numbers (BP) next to ours (VP); the second line is the short SKU, so an order-intake flow has a backorder to answer.
# (PO number, customer index, ship-to id, [(line, quantity, unit, ERP item no)])
PURCHASE_ORDERS = [
    ("4711", 0, "DC-EAST", [(1, 10, "CS", "HW-20620-C"), (2, 100, "EA", SHORT_SKU), (3, 2, "BX", "HW-13687-B")]),
    ("4712", 1, "BALT-1", [(1, 4, "DZ", "HW-87462-D")]),
]


def purchase_order(po: str, customer: int, ship_to: str, lines: list[tuple[int, int, str, str]],
                   control_number: int = 1) -> str:
    """One 850 interchange from the partner ACMEHW to CROSSDOCK, a segment a line."""
    _no, name, *_rest, (ship_name, street, city, state, zip_code) = CUSTOMERS[customer]
    prices = {no: price for no, _description, price, _weight in CATALOGUE}
    body = [f"BEG*00*SA*{po}**20261120", "DTM*002*20261203", f"N1*BY*{name}*92*{CUSTOMERS[customer][0]}",
            f"N1*ST*{ship_name}*92*{ship_to}", f"N3*{street}", f"N4*{city}*{state}*{zip_code}*US"]
    body += [f"PO1*{line}*{qty}*{unit}*{prices[item] * UOMS[unit]:.2f}**BP*ACME-{item[3:8]}*VP*{item}"
             for line, qty, unit, item in lines]
    body.append(f"CTT*{len(lines)}")
    number = f"{control_number:09d}"
    segments = [f"ISA*00*{'':10}*00*{'':10}*ZZ*{'ACMEHW':15}*ZZ*{'CROSSDOCK':15}*261120*0930*U*00401*{number}*0*P*>",
                f"GS*PO*ACMEHW*CROSSDOCK*20261120*0930*{control_number}*X*004010", "ST*850*0001", *body,
                f"SE*{len(body) + 2}*0001", f"GE*1*{control_number}", f"IEA*1*{number}"]
    return "~\n".join(segments) + "~\n"


def _edi(conn: Connection) -> None:
    for number, (po, customer, ship_to, lines) in enumerate(PURCHASE_ORDERS, start=1):
        conn.execute(store.edi_documents.insert().values(
            name=f"850-{po}", sets="850", doc={"text": purchase_order(po, customer, ship_to, lines, number)}))
