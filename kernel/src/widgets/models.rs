//! Typed widget models: each builds the full state its `comm_open` carries,
//! the `_model_*` / `_view_*` sextet first, as `ipywidgets` 8 sends it.

use super::WidgetId;
use jupyter_protocol::{Media, MediaType};
use serde_json::{json, Map, Value};

/// Something that can be opened as a widget model.
pub trait Widget {
    /// The model's full state.
    fn state(&self) -> Map<String, Value>;
}

/// The JavaScript module a model or view class lives in, with its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Module {
    Base,
    Controls,
    Output,
}

impl Module {
    fn name(self) -> &'static str {
        match self {
            Module::Base => "@jupyter-widgets/base",
            Module::Controls => "@jupyter-widgets/controls",
            Module::Output => "@jupyter-widgets/output",
        }
    }

    fn version(self) -> &'static str {
        match self {
            Module::Base | Module::Controls => "2.0.0",
            Module::Output => "1.0.0",
        }
    }
}

/// The six class fields every model state starts with.
fn sextet(
    model: &str,
    model_module: Module,
    view: &str,
    view_module: Module,
) -> Map<String, Value> {
    let mut state = Map::new();
    state.insert("_model_name".into(), model.into());
    state.insert("_model_module".into(), model_module.name().into());
    state.insert(
        "_model_module_version".into(),
        model_module.version().into(),
    );
    state.insert("_view_name".into(), view.into());
    state.insert("_view_module".into(), view_module.name().into());
    state.insert("_view_module_version".into(), view_module.version().into());
    state
}

/// A `controls` model with its view, plus the DOM-widget fields.
fn dom_widget(model: &str, view: &str, module: Module, dom: &Dom) -> Map<String, Value> {
    let mut state = sextet(model, module, view, module);
    state.insert("_dom_classes".into(), json!([]));
    state.insert("tabbable".into(), Value::Null);
    state.insert("tooltip".into(), Value::Null);
    state.insert("layout".into(), reference(dom.layout.as_ref()));
    if let Some(style) = &dom.style {
        state.insert("style".into(), style.reference().into());
    }
    state
}

fn reference(id: Option<&WidgetId>) -> Value {
    id.map_or(Value::Null, |id| id.reference().into())
}

/// The layout and style models a DOM widget refers to (both optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dom {
    /// A [`Layout`] model.
    pub layout: Option<WidgetId>,
    /// A [`Style`] model of the kind the widget expects.
    pub style: Option<WidgetId>,
}

/// CSS layout of a widget (`LayoutModel`); unset fields keep the front end's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// CSS `width`.
    pub width: Option<String>,
    /// CSS `margin`.
    pub margin: Option<String>,
    /// CSS `flex-flow` (for boxes).
    pub flex_flow: Option<String>,
}

impl Widget for Layout {
    fn state(&self) -> Map<String, Value> {
        let mut state = sextet("LayoutModel", Module::Base, "LayoutView", Module::Base);
        for (key, value) in [
            ("width", &self.width),
            ("margin", &self.margin),
            ("flex_flow", &self.flex_flow),
        ] {
            state.insert(key.into(), value.clone().map_or(Value::Null, Value::from));
        }
        state
    }
}

/// Style models: how a widget's description and parts look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Style {
    /// `SliderStyleModel`.
    Slider {
        /// Width of the description label (CSS).
        description_width: String,
    },
    /// `ToggleButtonsStyleModel`.
    ToggleButtons {
        /// Width of the description label (CSS).
        description_width: String,
        /// Width of each button (CSS).
        button_width: String,
    },
}

impl Widget for Style {
    fn state(&self) -> Map<String, Value> {
        let (model, mut fields) = match self {
            Style::Slider { description_width } => (
                "SliderStyleModel",
                json!({"description_width": description_width, "handle_color": null}),
            ),
            Style::ToggleButtons {
                description_width,
                button_width,
            } => (
                "ToggleButtonsStyleModel",
                json!({"description_width": description_width, "button_width": button_width, "font_weight": ""}),
            ),
        };
        let mut state = sextet(model, Module::Controls, "StyleView", Module::Base);
        if let Some(fields) = fields.as_object_mut() {
            state.append(fields);
        }
        state
    }
}

/// An integer slider (`IntSliderModel`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntSlider {
    /// The current value.
    pub value: i64,
    /// Smallest value.
    pub min: i64,
    /// Largest value.
    pub max: i64,
    /// Step between values.
    pub step: i64,
    /// The label shown beside the slider.
    pub description: String,
    /// `false`: the front end sends the value only when the handle is released.
    pub continuous_update: bool,
    /// Layout and style.
    pub dom: Dom,
}

impl Widget for IntSlider {
    fn state(&self) -> Map<String, Value> {
        let mut state = dom_widget(
            "IntSliderModel",
            "IntSliderView",
            Module::Controls,
            &self.dom,
        );
        let fields = json!({
            "value": self.value, "min": self.min, "max": self.max, "step": self.step,
            "description": self.description, "description_allow_html": false,
            "continuous_update": self.continuous_update, "disabled": false,
            "orientation": "horizontal", "readout": true, "readout_format": "d",
            "behavior": "drag-tap",
        });
        if let Value::Object(mut fields) = fields {
            state.append(&mut fields);
        }
        state
    }
}

/// A row of exclusive buttons (`ToggleButtonsModel`); the front end syncs `index`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToggleButtons {
    /// The button labels.
    pub labels: Vec<String>,
    /// The selected button.
    pub index: usize,
    /// The label shown before the buttons.
    pub description: String,
    /// A tooltip per button.
    pub tooltips: Vec<String>,
    /// Layout and style.
    pub dom: Dom,
}

impl Widget for ToggleButtons {
    fn state(&self) -> Map<String, Value> {
        let mut state = dom_widget(
            "ToggleButtonsModel",
            "ToggleButtonsView",
            Module::Controls,
            &self.dom,
        );
        let fields = json!({
            "_options_labels": self.labels, "index": self.index,
            "description": self.description, "description_allow_html": false,
            "disabled": false, "button_style": "", "icons": [], "tooltips": self.tooltips,
        });
        if let Value::Object(mut fields) = fields {
            state.append(&mut fields);
        }
        state
    }
}

/// A column of exclusive radio buttons (`RadioButtonsModel`); the front end
/// syncs `index`, which is `None` until the user picks an option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RadioButtons {
    /// The option labels.
    pub labels: Vec<String>,
    /// The picked option, if any.
    pub index: Option<usize>,
    /// The label shown before the options (empty: none).
    pub description: String,
    /// No option can be picked.
    pub disabled: bool,
    /// Layout and style.
    pub dom: Dom,
}

impl Widget for RadioButtons {
    fn state(&self) -> Map<String, Value> {
        let mut state = dom_widget(
            "RadioButtonsModel",
            "RadioButtonsView",
            Module::Controls,
            &self.dom,
        );
        let fields = json!({
            "_options_labels": self.labels, "index": self.index,
            "description": self.description, "description_allow_html": false,
            "disabled": self.disabled, "orientation": "vertical",
        });
        if let Value::Object(mut fields) = fields {
            state.append(&mut fields);
        }
        state
    }
}

/// How a button looks (`button_style`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ButtonStyle {
    /// The theme's plain button.
    #[default]
    Plain,
    /// The main action (blue).
    Primary,
    /// Done (green).
    Success,
}

impl ButtonStyle {
    /// The `button_style` value.
    pub fn name(self) -> &'static str {
        match self {
            ButtonStyle::Plain => "",
            ButtonStyle::Primary => "primary",
            ButtonStyle::Success => "success",
        }
    }
}

/// A push button (`ButtonModel`); a click reaches the kernel as a `custom`
/// message `{"event": "click"}`, not as a state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    /// The button's text.
    pub description: String,
    /// Shown on hover.
    pub tooltip: String,
    /// The button cannot be clicked.
    pub disabled: bool,
    /// How it looks.
    pub style: ButtonStyle,
    /// Layout.
    pub dom: Dom,
}

impl Widget for Button {
    fn state(&self) -> Map<String, Value> {
        let mut state = dom_widget("ButtonModel", "ButtonView", Module::Controls, &self.dom);
        state.insert("description".into(), self.description.clone().into());
        state.insert("tooltip".into(), self.tooltip.clone().into());
        state.insert("disabled".into(), self.disabled.into());
        state.insert("icon".into(), "".into());
        state.insert("button_style".into(), self.style.name().into());
        state
    }
}

/// A block of HTML (`HTMLModel`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Html {
    /// The HTML shown.
    pub value: String,
    /// Layout (and an `HTMLStyleModel`, if any).
    pub dom: Dom,
}

impl Widget for Html {
    fn state(&self) -> Map<String, Value> {
        let mut state = dom_widget("HTMLModel", "HTMLView", Module::Controls, &self.dom);
        state.insert("value".into(), self.value.clone().into());
        state.insert("placeholder".into(), "".into());
        state.insert("description".into(), "".into());
        state.insert("description_allow_html".into(), false.into());
        state
    }
}

/// Which way a box lays out its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Top to bottom (`VBox`).
    Vertical,
    /// Left to right (`HBox`).
    Horizontal,
}

/// A box of other widgets (`VBoxModel` / `HBoxModel`). Open the children first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// Vertical or horizontal.
    pub direction: Direction,
    /// The children, in order.
    pub children: Vec<WidgetId>,
    /// Layout.
    pub dom: Dom,
}

impl Widget for Container {
    fn state(&self) -> Map<String, Value> {
        let (model, view) = match self.direction {
            Direction::Vertical => ("VBoxModel", "VBoxView"),
            Direction::Horizontal => ("HBoxModel", "HBoxView"),
        };
        let mut state = dom_widget(model, view, Module::Controls, &self.dom);
        let children: Vec<Value> = self.children.iter().map(|c| c.reference().into()).collect();
        state.insert("children".into(), children.into());
        state.insert("box_style".into(), "".into());
        state
    }
}

/// An output area (`OutputModel`) used in direct mode: the kernel sets `outputs`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    /// The outputs shown, as notebook-format output JSON.
    pub outputs: Vec<Value>,
    /// Layout.
    pub dom: Dom,
}

impl Output {
    /// The notebook-format `display_data` output showing `media`. Text and
    /// JSON parts are moved, not copied (a chart spec is large).
    pub fn display_data(media: Media) -> Value {
        let mut data = Map::new();
        for item in media.content {
            let mime = item.mime_type().to_string();
            let value = match item {
                MediaType::Plain(text) | MediaType::Html(text) | MediaType::Markdown(text) => {
                    Value::String(text)
                }
                MediaType::VegaLiteV5(value) | MediaType::Json(value) => value,
                MediaType::Other((_, value)) => value,
                other => serde_json::to_value(Media::new(vec![other]))
                    .ok()
                    .and_then(|mut bundle| bundle.get_mut(&mime).map(Value::take))
                    .unwrap_or(Value::Null),
            };
            data.insert(mime, value);
        }
        let mut output = Map::new();
        output.insert("output_type".into(), "display_data".into());
        output.insert("data".into(), Value::Object(data));
        output.insert("metadata".into(), json!({}));
        Value::Object(output)
    }
}

impl Widget for Output {
    fn state(&self) -> Map<String, Value> {
        let mut state = dom_widget("OutputModel", "OutputView", Module::Output, &self.dom);
        state.insert("msg_id".into(), "".into());
        state.insert("outputs".into(), self.outputs.clone().into());
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_start_with_the_class_sextet() {
        let slider = IntSlider {
            value: 4,
            min: 1,
            max: 16,
            step: 1,
            description: "workers".into(),
            continuous_update: false,
            dom: Dom::default(),
        }
        .state();
        assert_eq!(slider["_model_name"], "IntSliderModel");
        assert_eq!(slider["_view_name"], "IntSliderView");
        assert_eq!(slider["_model_module"], "@jupyter-widgets/controls");
        assert_eq!(slider["_view_module_version"], "2.0.0");
        assert_eq!(slider["continuous_update"], false);
        assert_eq!(slider["value"], 4);
        let output = Output::default().state();
        assert_eq!(output["_model_module"], "@jupyter-widgets/output");
        assert_eq!(output["_model_module_version"], "1.0.0");
        assert_eq!(output["msg_id"], "");
        let style = Style::Slider {
            description_width: "9em".into(),
        }
        .state();
        assert_eq!(style["_view_name"], "StyleView");
        assert_eq!(style["_view_module"], "@jupyter-widgets/base");
        assert_eq!(style["_model_module"], "@jupyter-widgets/controls");
    }

    #[test]
    fn display_data_keeps_every_mime_type() {
        let media = Media::new(vec![
            MediaType::Plain("p".into()),
            MediaType::VegaLiteV5(json!({"mark": "line"})),
            MediaType::Latex("x".into()),
            MediaType::Other(("application/x-test+json".into(), json!([1]))),
        ]);
        let output = Output::display_data(media);
        assert_eq!(output["output_type"], "display_data");
        assert_eq!(
            output["data"],
            json!({"text/plain": "p", "application/vnd.vegalite.v5+json": {"mark": "line"},
                   "text/latex": "x", "application/x-test+json": [1]})
        );
    }

    #[test]
    fn boxes_refer_to_children_by_model_reference() {
        let a = WidgetId("a1".into());
        let layout = WidgetId("l1".into());
        let state = Container {
            direction: Direction::Horizontal,
            children: vec![a],
            dom: Dom {
                layout: Some(layout),
                style: None,
            },
        }
        .state();
        assert_eq!(state["_model_name"], "HBoxModel");
        assert_eq!(state["children"], json!(["IPY_MODEL_a1"]));
        assert_eq!(state["layout"], "IPY_MODEL_l1");
        assert!(!state.contains_key("style"));
    }
}
