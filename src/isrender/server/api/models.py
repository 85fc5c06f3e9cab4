"""Typed bodies of the IPS JSON API (§5.3), the schema the OpenAPI document and the WSDL share.

Field order is the order the server emits (and, for SOAP, the XSD sequence order). These models
document and describe; they do not replace the handlers' checks: IPS validates in a fixed
order (authentication, role, then parameters, §2.1), which a body model validated before the
handler runs would break. The tests validate real replies against them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FAULT_MODEL",
    "OPERATIONS",
    "ExportJob",
    "JobView",
    "Model",
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- requests ----------------------------------------------------------------------------


class ExportJob(Model):
    """The exportJob payload (§2.8.1), in the reference's element order."""

    assetHandleArray: list[str] = Field(description="Asset handles (a|N), 1 to 1000")
    fmt: Literal["orig", "convert"]
    is_modifier: str | None = Field(None, description="IS modifier string (fmt=convert)")
    macro: str | None = Field(None, description="A macro name, $name$ (fmt=convert)")
    emailSetting: Literal["All", "Error", "ErrorAndWarning", "JobCompletion", "None"] | None = None
    clientId: str | None = None


class SubmitJobBody(Model):
    """submitJob through ``POST /companies/{company}/jobs`` (the company is in the path)."""

    userHandle: str | None = Field(None, description="Submit on behalf of this user (admins)")
    jobName: str = Field(description="At most 255 characters, no | or control characters")
    locale: str | None = Field(None, description="ll or ll-CC; else Accept-Language")
    execTime: datetime | None = Field(None, description="Run once at this time")
    execSchedule: str | None = Field(None, description="Quartz cron: run on this schedule")
    description: str | None = None
    exportJob: ExportJob


class SubmitJobParam(Model):
    """submitJob in the canonical RPC form and over SOAP (§2.1 element order)."""

    companyHandle: str
    userHandle: str | None = None
    jobName: str
    locale: str | None = None
    execTime: datetime | None = None
    execSchedule: str | None = None
    description: str | None = None
    exportJob: ExportJob


class ImageFormatBody(Model):
    name: str
    urlModifier: str


class ImageFormatUpdate(Model):
    urlModifier: str


class CompanyParam(Model):
    companyHandle: str


class JobFilterParam(Model):
    """getActiveJobs (company optional) and getScheduledJobs; filters combine with AND."""

    companyHandle: str | None = None
    jobHandle: str | None = None
    originalName: str | None = None


class JobControlParam(Model):
    """stopJob, pauseJob, resumeJob, executeJob, deleteJob."""

    companyHandle: str
    jobHandle: str


class GetJobLogsParam(Model):
    companyHandle: str
    userHandle: str | None = None
    sortBy: str | None = Field(None, description="JobName, StartDate (default), UserId, ...")
    sortDirection: Literal["Ascending", "Descending"] | None = None
    startDate: datetime | None = None
    endDate: datetime | None = None
    numRows: int | None = Field(None, ge=1, le=1000)


class GetJobLogDetailsParam(Model):
    companyHandle: str
    jobHandle: str
    logTypeArray: list[str] | None = None
    recordsPerPage: int | None = Field(None, ge=1, le=1000)
    resultsPage: int | None = Field(None, ge=1)


class GetAssetJobLogsParam(Model):
    companyHandle: str
    assetHandle: str


class SaveImageFormatParam(Model):
    companyHandle: str
    name: str
    urlModifier: str


class DeleteImageFormatParam(Model):
    companyHandle: str
    imageFormatHandle: str


# ---- replies -----------------------------------------------------------------------------


class JobView(Model):
    """ActiveJob / ScheduledJob / JobLog summary merged (absent fields are omitted)."""

    jobHandle: str
    jobName: str
    originalName: str
    type: str = Field(description="Export, UploadPost")
    state: str = Field(description="New, Running, Stopping, Done, Scheduled, Fired, Deleted")
    submitUserHandle: str
    submitted: datetime
    totalFileCount: int
    processedFileCount: int
    fileSuccessCount: int
    fileErrorCount: int
    fileWarningCount: int
    fileDuplicateCount: int
    fileCancelledCount: int
    startDate: datetime | None = None
    endDate: datetime | None = None
    execTime: datetime | None = None
    nextFireTime: datetime | None = None
    locale: str | None = None
    execSchedule: str | None = None
    triggerState: str | None = None
    outcome: (
        Literal["Succeeded", "SucceededWithWarnings", "PartiallyFailed", "Failed", "Stopped"] | None
    ) = None


class LogDetail(Model):
    logType: str
    date: datetime
    assetHandle: str | None = None
    message: str
    code: int | None = None


class JobLogDetails(JobView):
    detailTotalRows: int
    details: list[LogDetail]


class AssetJobLog(Model):
    jobHandle: str
    jobName: str
    logType: str
    date: datetime
    message: str
    code: int | None = None


class ImageFormat(Model):
    imageFormatHandle: str
    name: str
    urlModifier: str


class ImageFormatHandle(Model):
    imageFormatHandle: str


class TemplateBody(Model):
    """A compositing template: its name, folder and modifier string (with layers)."""

    name: str
    urlModifier: str
    folder: str = ""


class TemplateView(Model):
    assetHandle: str
    name: str
    folder: str
    urlModifier: str


class TemplateHandle(Model):
    assetHandle: str


class CompanyAttributeValue(Model):
    """One catalog attribute as the image server applies it (spec §4.2)."""

    value: str = Field(description="IS text form, e.g. DefaultPix 400,400")
    source: Literal["company", "server"] = Field(
        description="company: set for this company; server: its server-wide setting"
    )


class CompanyAttributes(Model):
    """Every catalog attribute of a company (DefaultPix, MaxPix, JpegQuality, ...)."""

    companyHandle: str
    attributes: dict[str, CompanyAttributeValue]


class CompanyAttributesUpdate(Model):
    """Only the named attributes change: a text sets one, null returns it to the setting."""

    attributes: dict[str, str | None]


class SubmitJobReturn(Model):
    jobHandle: str


class Token(Model):
    token: str
    expires: datetime


class OutputFile(Model):
    path: str
    bytes: int
    sha256: str
    format: str
    assetHandle: str
    url: str
    downloadUrl: str
    downloadUrlExpires: datetime


class UploadReturn(JobView):
    assetHandles: list[str]


class EmptyReturn(Model):
    """An operation without output: an empty ``<operation>Return`` (§5.1)."""


class JobArrayReturn(Model):
    jobArray: list[JobView]


class JobLogArrayReturn(Model):
    jobLogArray: list[JobView]


class JobLogDetailsReturn(Model):
    jobLogArray: list[JobLogDetails]


class AssetJobLogArrayReturn(Model):
    assetJobLogArray: list[AssetJobLog]


class ImageFormatArrayReturn(Model):
    imageFormatArray: list[ImageFormat]


class Fault(Model):
    type: Literal["authenticationFault", "authorizationFault", "ipsApiFault"]
    code: int
    name: str
    reason: str
    parameter: str | None = Field(None, description="The parameter path, e.g. exportJob/fmt")


class FaultReply(Model):
    fault: Fault


FAULT_MODEL = FaultReply

# every operation of the RPC form and the SOAP endpoint: its Param and Return bodies
OPERATIONS: dict[str, tuple[type[Model], type[Model]]] = {
    "submitJob": (SubmitJobParam, SubmitJobReturn),
    "getActiveJobs": (JobFilterParam, JobArrayReturn),
    "getScheduledJobs": (JobFilterParam, JobArrayReturn),
    **{
        f"{action}Job": (JobControlParam, EmptyReturn)
        for action in ("stop", "pause", "resume", "execute", "delete")
    },
    "getJobLogs": (GetJobLogsParam, JobLogArrayReturn),
    "getJobLogDetails": (GetJobLogDetailsParam, JobLogDetailsReturn),
    "getAssetJobLogs": (GetAssetJobLogsParam, AssetJobLogArrayReturn),
    "getImageFormats": (CompanyParam, ImageFormatArrayReturn),
    "saveImageFormat": (SaveImageFormatParam, ImageFormatHandle),
    "deleteImageFormat": (DeleteImageFormatParam, EmptyReturn),
}
