//! The undo/redo stack of edits on a base scene, and saving/loading it with the scene.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// The stack

/// Edits done and undone, on top of a base scene.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EditStack {
    pub done: Vec<EditRecord>,
    pub undone: Vec<EditRecord>,
}

impl EditStack {
    /// Applies `edit` to `scene` and pushes it (clearing the redo list).
    pub fn push(&mut self, scene: &mut Scene, edit: Edit) -> Result<&EditRecord, EditError> {
        self.push_named(scene, edit, None)
    }
    /// As [`Self::push`], with the planner's name for the edit (instead of its description).
    pub fn push_named(
        &mut self,
        scene: &mut Scene,
        edit: Edit,
        name: Option<String>,
    ) -> Result<&EditRecord, EditError> {
        edit.apply(scene)?;
        let mut r = EditRecord::from(edit);
        if let Some(n) = name {
            r.description = n;
        }
        self.done.push(r);
        self.undone.clear();
        Ok(self.done.last().expect("just pushed"))
    }
    /// Undoes the last edit; `None` when there is none.
    pub fn undo(&mut self, scene: &mut Scene) -> Result<Option<&EditRecord>, EditError> {
        let Some(r) = self.done.pop() else {
            return Ok(None);
        };
        if let Err(e) = r.edit.revert(scene) {
            self.done.push(r);
            return Err(e);
        }
        self.undone.push(r);
        Ok(self.undone.last())
    }
    /// Redoes the last undone edit.
    pub fn redo(&mut self, scene: &mut Scene) -> Result<Option<&EditRecord>, EditError> {
        let Some(r) = self.undone.pop() else {
            return Ok(None);
        };
        if let Err(e) = r.edit.apply(scene) {
            self.undone.push(r);
            return Err(e);
        }
        self.done.push(r);
        Ok(self.done.last())
    }
    /// The edited scene with its edit history, as saved with `--save-as`.
    pub fn saved_scene(&self, scene: &Scene) -> Scene {
        let mut s = scene.clone();
        s.edits = self.done.clone();
        s
    }
    /// The RON of [`Self::saved_scene`].
    pub fn save_ron(&self, scene: &Scene) -> String {
        crate::scene::to_ron(&self.saved_scene(scene))
    }
    /// Reads a saved scene back: the scene without its history and the stack of its edits, after
    /// checking that undoing them all and redoing them all reproduces it exactly.
    pub fn from_saved(saved: &Scene) -> Result<(Scene, EditStack), EditError> {
        let mut scene = saved.clone();
        scene.edits.clear();
        let stack = EditStack {
            done: saved.edits.clone(),
            undone: Vec::new(),
        };
        let base = stack.base(&scene)?;
        let mut again = base;
        for r in &stack.done {
            r.edit.apply(&mut again)?;
        }
        if again != scene {
            return err("the saved edits do not reproduce the saved scene");
        }
        Ok((scene, stack))
    }
    /// The base scene: `scene` with every done edit undone.
    pub fn base(&self, scene: &Scene) -> Result<Scene, EditError> {
        let mut s = scene.clone();
        s.edits.clear();
        for r in self.done.iter().rev() {
            r.edit.revert(&mut s)?;
        }
        Ok(s)
    }
}
