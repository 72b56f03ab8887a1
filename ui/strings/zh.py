"""简体中文 strings: the same keys as ui/strings/en.py, written for readers of Chinese tutorials on autoencoders and GANs."""
from __future__ import annotations

STRINGS: dict[str, str] = {
    # ui/i18n.py
    "lang.label": "界面语言",
    # ui/links.py
    "links.share": "分享当前视图",
    "links.share_title": "当前视图的链接",
    "links.share_hint": "点右侧的图标即可复制。打开链接的人会看到同一页面、同样的设置（手绘或上传的图片不包含在链接里）。",
    "links.ignored": "链接中的 {param}={value} 已忽略：{why}。",
    "links.not_option": "可选值只有 {options}",
    "links.not_whole": "应为 {lo} 到 {hi} 之间的整数",
    "links.not_number": "应为 {lo} 到 {hi} 之间的数",
    "links.not_flag": "应为 1 或 0",
}
