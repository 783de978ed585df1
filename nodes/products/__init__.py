"""The bundled product profiles, one module each, registered here one per line (explicit wiring, no
directory scanning). A profile from elsewhere registers itself with nodes.product.register."""
from __future__ import annotations

from nodes import product
from nodes.products import erp_business_central, erp_netsuite, oms_shopify, tms_generic, wms_manhattan

BUNDLED = (
    product.register(erp_business_central.PROFILE),
    product.register(erp_netsuite.PROFILE),
    product.register(oms_shopify.PROFILE),
    product.register(wms_manhattan.PROFILE),
    product.register(tms_generic.PROFILE),
)
