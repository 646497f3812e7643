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
#generator-note p { margin: 0; font-size: 13px; line-height: 1.35; }
#metrics table { font-size: 12px; margin: 2px 0; }
#metrics td, #metrics th { padding: 1px 6px; }
#metrics p { margin: 2px 0; font-size: 12px; }
#presets .wrap { gap: 4px; }
#presets label { padding: 2px 8px; font-size: 13px; }
#generate, #cancel, #observe, #go-point, #place-search { min-height: 36px; }
#mode .wrap label { padding: 2px 8px; }
.export-file .filename .stem { white-space: normal !important; overflow-wrap: anywhere; overflow: visible !important; }
.export-file .download { min-width: 0 !important; width: auto !important; }
.export-file .file-preview-holder, .export-file .file-preview { max-height: none !important; }
.export-file table.file-preview, .export-file tr.file { padding: 0 !important; margin: 0 !important; }
.export-file tr.file > td { padding: 2px 6px !important; font-size: 12px; line-height: 1.3; }
.export-file .file-preview-holder { padding-top: 0; }
#prompts p { margin: 2px 0; font-size: 12px; }
#timelapse-tab fieldset .wrap { flex-wrap: nowrap; gap: 4px; }
#timelapse-tab fieldset .wrap label { padding: 2px 6px; font-size: 12.5px; white-space: nowrap; }
#timelapse, #tl-cancel { max-height: 64px; align-self: center; }
#models-metrics { max-height: 112px !important; overflow: auto !important; }
#models-metrics table { font-size: 12px; margin: 2px 0; }
#models-metrics th, #models-metrics td { padding: 1px 6px; white-space: nowrap; }
#models-metrics p, #models-missing p, #models-intro p { margin: 2px 0; font-size: 12px; }
/* an empty download box stays small, not a 220 px drop zone (Grid and Models tabs scrolled) */
#grid-file .empty, #models-file .empty, #tl-file .empty { min-height: 40px !important; height: 40px !important; }
#grid-file, #models-file, #tl-file { align-self: flex-start; }
/* the Slider tab says which side is which, in its two bottom corners */
#compare-slider .content { position: relative; }
/* whole images: scaled to the slider's height (they were cut to their top half, caption band lost) */
#compare-slider .slider-wrap img { max-height: 205px !important; width: auto !important; object-fit: contain; }
/* the slider as wide as the images, so its handle and the cut between them stay together */
#compare-slider .slider-wrap .wrap { width: fit-content !important; margin: 0 auto; }
#compare-slider .content::before, #compare-slider .content::after { position: absolute; bottom: 6px; z-index: 5;
  padding: 1px 6px; border-radius: 4px; background: rgba(0, 0, 0, 0.65); color: #fff; font-size: 12px;
  pointer-events: none; }
#compare-slider .content::before { content: "◀ today"; left: 6px; }
#compare-slider .content::after { content: "scenario ▶"; right: 6px; }
/* a refused action's line (app.errors.refusal_line), where it happened, until the area's next action */
/* at most two lines (the tab keeps fitting 1366 x 768); the whole message is its tooltip */
.refusal { color: #b42318; background: #fef3f2; border-left: 3px solid #d92d20; padding: 0 6px; font-size: 13px;
  line-height: 1.35; display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2; overflow: hidden; }
/* lines that only ever hold a refusal take no space while empty */
.refusal-line:not(:has(.refusal)) { display: none !important; }
.refusal-line p { margin: 0; }
/* toasts (refusals, warnings, "busy") stay in the band above the first Cancel button (Generate's, at y 292 at
   1366 x 768; the tabs' own are lower): a taller stack scrolls inside it, the newest message of a kind first */
.toast-wrap { max-height: 260px; overflow-y: auto; overscroll-behavior: contain; }
.toast-messages { flex-direction: column-reverse !important; }
footer { display: none !important; }
"""
