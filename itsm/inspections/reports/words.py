"""The reports' Chinese words. A report renders in a job, with no request and no locale, so
its words are its own: the same as the pages' Chinese catalogue (a test keeps them so)."""

from __future__ import annotations

from workflows import inspection as wf

STATES = {
    wf.PLANNED: "待执行",
    wf.ASSIGNED: "已指派",
    wf.IN_PROGRESS: "执行中",
    wf.SUBMITTED: "已提交",
    wf.ACCEPTED: "已验收",
    wf.CANCELLED: "已取消",
    wf.MISSED: "已错过",
}
KINDS = {
    "system": "系统巡检",
    "device": "设备巡检",
    "quarterly": "季度巡检",
    "pre_holiday": "节前巡检",
    "half_year_on_site": "半年现场巡检",
    "db_server": "数据库服务器巡检",
    "patch_upgrade": "补丁升级",
    "backup_review": "备份策略评审",
    "ad_hoc": "临时巡检",
}
MODES = {"remote": "远程", "on_site": "现场", "either": "远程或现场"}
CHECK_RESULTS = {"ok": "正常", "fault": "故障", "not_applicable": "不适用"}
TICKET_STATES = {
    "new": "新建",
    "acknowledged": "已受理",
    "in_progress": "远程处理中",
    "dispatched": "已派工",
    "en_route": "在途",
    "on_site": "已到场",
    "restored": "临时恢复",
    "waiting_customer": "等待客户",
    "resolved": "已解决",
    "closed": "已关闭",
    "cancelled": "已取消",
}
FAULT, NORMAL, UNANSWERED = "异常", "正常", "未填写"
SYSTEM = "系统"
