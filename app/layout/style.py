"""The page's CSS (passed to `launch(css=...)` in Gradio 6): compact spacing so the loop fits 1366 x 768."""

CSS = """
.gradio-container { max-width: 100% !important; padding: 2px 10px !important; --layout-gap: 6px;
  --block-padding: 4px 8px; --block-label-padding: 2px 6px; --block-label-text-size: 12px;
  --block-title-text-size: 12px; --input-padding: 5px 8px; --form-gap-width: 1px; }
.gradio-container > .main > .wrap, .gradio-container .contain { padding: 0 !important; }
#top-bar { align-items: center; gap: 12px; min-height: 0; flex-wrap: nowrap; }
#top-bar p { margin: 0; }
#title { flex: 0 0 auto !important; width: auto !important; }
#model-notice { background: #fff4e5; border: 1px solid #f0b45b; border-radius: 6px; padding: 1px 10px;
  font-size: 13px; flex: 1 1 auto !important; }
#place-line p, #observed-line p, #scenario-line p, #generate-status p { margin: 0; font-size: 13px; }
#place-line, #observed-line, #scenario-line, #generate-status { min-height: 18px; }
#result-tabs button[role=tab] { padding: 3px 6px; font-size: 12.5px; }
#result-tabs .tabitem { padding: 4px 0 0 0; }
.result-image { min-width: 0 !important; }
#metrics table { font-size: 12px; margin: 2px 0; }
#metrics td, #metrics th { padding: 1px 6px; }
#metrics p { margin: 2px 0; font-size: 12px; }
#presets .wrap { gap: 4px; }
#presets label { padding: 2px 8px; font-size: 13px; }
#generate, #cancel, #observe, #go-point, #place-search { min-height: 36px; }
#mode .wrap label { padding: 2px 8px; }
footer { display: none !important; }
"""
