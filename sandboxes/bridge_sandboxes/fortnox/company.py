"""GET /3/companyinformation (fact sheet §5.7, §1.4; scope `companyinformation`): `DatabaseNumber` is the tenant id."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from bridge_sandboxes.fortnox.access import company_for
from bridge_sandboxes.fortnox.state import Company
from bridge_sandboxes.fortnox.wire import FortnoxRouter


def company_router() -> APIRouter:
    router = FortnoxRouter(prefix="/3", tags=["company"])

    @router.get("/companyinformation")
    def company_information(
        company: Annotated[Company, Depends(company_for("companyinformation"))],
    ) -> dict[str, Any]:
        return {
            "CompanyInformation": {
                "Address": company.address,
                "City": company.city,
                "CountryCode": company.country_code,
                "DatabaseNumber": company.tenant_id,
                "CompanyName": company.name,
                "OrganizationNumber": company.organisation_number,
                "VisitAddress": company.address,
                "VisitCity": company.city,
                "VisitCountryCode": company.country_code,
                "VisitZipCode": company.zip_code,
                "ZipCode": company.zip_code,
            }
        }

    return router
